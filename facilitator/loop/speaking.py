"""Speaking: the prompt queue, playback and the mute window.

A prompt is queued and spoken as soon as no partner is mid-turn (the loop decides when).
Each is played completely; the microphone is ignored while the facilitator speaks and
`tail_s` after, counted from what the microphone had captured when playback began.
"""

from __future__ import annotations

import time
from typing import Callable

from facilitator.signals import Signal, Spoken
from facilitator.speech_out import SpeechError


class Speaking:
    def __init__(self, voice, record: Callable[..., None], signal: Callable[[Signal], None],
                 tail_s: float, not_repeated: set[str]) -> None:
        """`record(type, **fields)` writes a record event; `signal(...)` an internal one;
        prompts whose key is in `not_repeated` (reminders, commands) are not the "last
        prompt" that "repeat that" says again."""
        self.voice = voice
        self.record = record
        self.signal = signal
        self.tail_s = tail_s
        self.not_repeated = set(not_repeated) | {"repeat"}
        self.pending: list[tuple[str, str]] = []
        self.mute_until = 0.0
        self.last_prompt: str | None = None

    def queue(self, text: str, key: str) -> None:
        self.pending.append((text, key))

    def speak_pending(self, heard_until: Callable[[], float]) -> bool:
        """Play every queued prompt; `heard_until()` is the input time the microphone has
        captured (it may have captured more than the loop has read). Returns whether
        anything was queued."""
        spoke = bool(self.pending)
        while self.pending:
            text, key = self.pending.pop(0)
            self.record("prompt", text=text, key=key)
            start_input = heard_until()
            started_wall = time.monotonic()
            try:
                spoken = self.voice.say(text)
            except SpeechError as error:
                self.record("error", message=f"could not play the prompt: {error}")
                continue
            if key not in self.not_repeated:
                self.last_prompt = text
            played = max(spoken.duration, time.monotonic() - started_wall)
            self.signal(Spoken(t=start_input, text=text, started=spoken.started,
                               duration=spoken.duration, audio=spoken.audio, rate=spoken.rate))
            self.mute_until = max(self.mute_until, start_input + played + self.tail_s)
        return spoke
