"""Listening: the words of the turn being spoken, read at every pause.

The open turn is transcribed incrementally: at each pause, the speech since the last kept
stretch is transcribed again (with the kept words as context). A stretch of at least
`commit_chunk_s` is kept as it is, so a long turn is never transcribed from its start twice
and the transcript is nearly ready the moment the turn ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from facilitator.core import SAMPLE_RATE

COMMIT_CHUNK_S = 3.0     # transcribed stretches at least this long are kept as they are
CUT_TAIL_S = 0.08        # audio kept after the last voiced frame


class Transcribes(Protocol):
    def transcribe(self, audio: np.ndarray, context: str = "") -> object: ...


class TurnSoFar(Protocol):
    start: float
    speech_end: float

    def audio(self) -> np.ndarray: ...


@dataclass
class OpenTurn:
    """Words recognised so far in the turn being spoken."""

    committed_text: str = ""
    committed_until: float | None = None
    pending_text: str = ""
    transcribed_speech_end: float = -1.0
    last_voice_arrival: float = 0.0
    last_speech_end: float = 0.0

    @property
    def text(self) -> str:
        return " ".join(p for p in (self.committed_text, self.pending_text) if p).strip()


class Listening:
    """Holds the open turn's words; `transcribe_so_far` is called at pauses and at the end."""

    def __init__(self, transcriber: Transcribes, commit_chunk_s: float = COMMIT_CHUNK_S) -> None:
        self.transcriber = transcriber
        self.commit_chunk_s = commit_chunk_s
        self.open: OpenTurn | None = None

    def begin(self, start: float) -> OpenTurn:
        self.open = OpenTurn(committed_until=start)
        return self.open

    def heard_voice(self, speech_end: float, arrived: float) -> None:
        """The speaker is still talking (the frame that moved the speech end arrived then)."""
        state = self.open
        if state is not None and speech_end != state.last_speech_end:
            state.last_speech_end = speech_end
            state.last_voice_arrival = arrived

    def transcribe_so_far(self, turn: TurnSoFar) -> bool:
        """Read the words up to the turn's last voiced frame; False when nothing was new."""
        state = self.open
        if state is None or turn.speech_end == state.transcribed_speech_end:
            return False
        start = state.committed_until if state.committed_until is not None else turn.start
        cut = turn.speech_end + CUT_TAIL_S
        audio = turn.audio()
        lo = int(max(0.0, start - turn.start) * SAMPLE_RATE)
        hi = int(max(0.0, cut - turn.start) * SAMPLE_RATE)
        piece = audio[lo:hi]
        result = self.transcriber.transcribe(piece, context=state.committed_text)
        text = getattr(result, "text", "")
        state.pending_text = text
        state.transcribed_speech_end = turn.speech_end
        if len(piece) / SAMPLE_RATE >= self.commit_chunk_s and text:
            state.committed_text = state.text
            state.pending_text = ""
            state.committed_until = cut
        return True

    def close(self) -> OpenTurn | None:
        state, self.open = self.open, None
        return state
