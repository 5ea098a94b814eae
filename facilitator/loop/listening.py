"""Listening: the words of the turn being spoken, read at every pause.

The open turn is transcribed incrementally: at each pause, the speech since the last kept
stretch is transcribed again (with the kept words as context). A stretch of at least
`commit_chunk_s` is kept as it is once the pause has lasted long enough to be a gap between
words (`settle`; at once when it is twice that long), so a long turn is never transcribed
from its start twice and the transcript is nearly ready the moment the turn ends.
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
    pending_s: float = 0.0                 # length of the stretch the pending words were read from ...
    pending_cut: float | None = None       # ... and where it ended

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

    def transcribe_so_far(self, turn: TurnSoFar, settled: bool = True) -> bool:
        """Read the words up to the turn's last voiced frame; False when nothing was new.
        `settled`: the silence is long enough to be a gap between words (the stretch read
        may be kept); a shorter one (a running read in a cue step) keeps it only when long."""
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
        state.pending_s, state.pending_cut = len(piece) / SAMPLE_RATE, cut
        if settled or state.pending_s >= 2 * self.commit_chunk_s:
            self._keep_long_pending(state)
        return True

    def last_words_alone(self, audio: np.ndarray, speech_end_s: float, seconds: float) -> str:
        """The last `seconds` of speech before `speech_end_s` (from the start of `audio`, the
        turn's) read alone, without the turn as context: a reading of a long stretch often
        ends on its last full sentence and leaves out a dangling "and" after it; read alone,
        the last moment keeps it."""
        hi = min(len(audio), int(max(0.0, speech_end_s + CUT_TAIL_S) * SAMPLE_RATE))
        lo = max(0, hi - int(seconds * SAMPLE_RATE))
        return getattr(self.transcriber.transcribe(audio[lo:hi]), "text", "")

    def settle(self, turn: TurnSoFar) -> None:
        """The pause after words read at a shorter silence has lasted: keep them if long."""
        state = self.open
        if state is not None and state.transcribed_speech_end == turn.speech_end:
            self._keep_long_pending(state)

    def _keep_long_pending(self, state: OpenTurn) -> None:
        if state.pending_s >= self.commit_chunk_s and state.pending_text:
            state.committed_text = state.text
            state.pending_text = ""
            state.committed_until = state.pending_cut
            state.pending_s = 0.0

    def close(self) -> OpenTurn | None:
        state, self.open = self.open, None
        return state
