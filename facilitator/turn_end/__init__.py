"""Knowing when a thought is finished: how long to wait after a short silence.

words.py: the text end-of-turn model (P(finished | words so far, step), trained by
data/turn_end/train.py, weights in weights.json); features.py: its features; prosody.py:
the final pitch movement and lengthening of the voice; decide.py: `ThoughtEnd`, which
combines them into the silence that ends the turn.
"""

from facilitator.turn_end.decide import ThoughtDecision, ThoughtEnd, ThoughtEndOptions
from facilitator.turn_end.words import ThoughtModelMissing

__all__ = ["ThoughtDecision", "ThoughtEnd", "ThoughtEndOptions", "ThoughtModelMissing"]
