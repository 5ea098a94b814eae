"""The live loop: a thin frame loop (`session.py`) and the collaborators it wires.

audio in -> turn end -> `listening` (words so far) -> `attribution` (who spoke)
-> `moderation` (wrong speaker, talk-over) -> the active conversation -> `speaking`
(prompt queue, mute window) -> record; `controls` turns coach and voice commands into actions.
"""
