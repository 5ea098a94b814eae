"""The small shared core: what every room agrees on, importing no room.

- audio constants and the one int16 <-> float32 conversion;
- `words()`, the one tokeniser for turn text;
- the actions a conversation returns (`Say`, `StepStarted`, `Note`, `Finished`);
- what a conversation expects next (`Expectation`) and the turn it is handed (`HeardTurn`);
- the `Conversation` protocol that enrollment, the dialogue and every later exercise speak.

The live loop runs whichever conversation is active and carries out its actions; it holds
no per-conversation branches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Protocol, Union

import numpy as np

SAMPLE_RATE = 16000            # the pipeline's rate: every room works at 16 kHz mono int16
FRAME_MS = 30                  # the default webrtcvad frame


def to_float32(audio: np.ndarray) -> np.ndarray:
    """int16 (or any number type) audio as float32 in [-1, 1]; float32 passes through."""
    audio = np.asarray(audio)
    if audio.dtype == np.float32:
        return audio
    if audio.dtype == np.int16:
        return audio.astype(np.float32) / 32768.0
    return audio.astype(np.float32)


def to_int16(audio: np.ndarray) -> np.ndarray:
    """float audio in [-1, 1] as int16 (clipped; NaN becomes 0); int16 passes through."""
    audio = np.asarray(audio)
    if audio.dtype == np.int16:
        return audio
    clean = np.nan_to_num(audio.astype(np.float64), nan=0.0, posinf=1.0, neginf=-1.0)
    return (np.clip(clean, -1.0, 1.0) * 32767.0).astype(np.int16)


_WORD = re.compile(r"[a-z0-9']+")


def words(text: str) -> list[str]:
    """Lower-case word tokens, keeping apostrophes inside words."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    return [w.strip("'") for w in _WORD.findall(text) if w.strip("'")]


HESITATIONS = frozenset("um uh uhm er erm ah hmm mm".split())   # sounds, not words: "um, yes"


# -- actions: what a conversation asks the loop to do -------------------------------------

@dataclass
class Say:
    """Speak this sentence (queued; spoken once no partner is mid-turn)."""

    text: str
    key: str


@dataclass
class StepStarted:
    """The conversation entered a step (recorded as a `step` event)."""

    name: str
    round: int
    sender: str
    receiver: str
    messages: list[str]


@dataclass
class Note:
    """Write this record event (its type and fields, e.g. an enrollment try or a verdict)."""

    type: str
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass
class Finished:
    """The conversation is over; `reason` ends the session unless another conversation follows."""

    reason: str = "complete"


Action = Union[Say, StepStarted, Note, Finished]


# -- what a conversation expects and is handed ---------------------------------------------

@dataclass
class Expectation:
    """What the conversation waits for now: who should speak, and which words end the turn."""

    step: str
    role: str
    speaker: str | None
    cues: list[str]
    judged: bool = True        # turns are attributed and moderated (not during enrollment)
    weighty: bool = False      # the turn says something that matters (a message, a mirror:
                               # judged): people pause longer in it than in a "yes" or a chat


@dataclass
class HeardTurn:
    """One partner's finished turn, as the loop hands it to the conversation."""

    text: str
    audio: np.ndarray                      # int16 mono 16 kHz
    stereo: np.ndarray | None = None       # int16 (n, 2) with two microphones
    speaker: str | None = None             # who spoke it ("A"/"B"), None when not known
    confidence: float | None = None


class Conversation(Protocol):
    """Every conversation the facilitator holds: enrollment, each exercise, screening."""

    @property
    def expectation(self) -> Expectation: ...

    @property
    def finished(self) -> bool: ...

    def start(self) -> list[Action]: ...

    def on_turn(self, turn: HeardTurn) -> list[Action]: ...

    def on_silence(self) -> list[Action]: ...

    def skip(self) -> list[Action]:
        """Move on as if the current step had gone well (a coach's or a partner's choice)."""
        ...

    def override(self, passed: bool) -> list[Action]:
        """A coach says the last judgement was wrong: the judged turn `passed` after all, or not."""
        ...
