"""The speaker room's answer for a stretch of audio: who spoke it (`Attribution`), the
stretches of each voice (`Segment`) and the other partner's talking over it
(`Interruption`). Made by `identify.SpeakerIdentifier` (the voice) and
`channels.ChannelAttributor` (two microphones' levels).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np


class Segment(NamedTuple):
    start: float              # s from the start of the audio
    end: float
    speaker: str | None


@dataclass
class Interruption:
    start: float              # s from the start of the turn's audio
    end: float
    speaker: str              # who interrupted
    kind: str = "talk_over"   # "talk_over" | "wrong_speaker" | "overlap" (two mics)

    def event(self, offset_s: float = 0.0) -> dict[str, object]:
        """The record event; `offset_s` is the session time at which the audio starts."""
        return {"type": "interruption", "t": round(offset_s + self.end, 3),
                "speaker": self.speaker, "start": round(offset_s + self.start, 3),
                "end": round(offset_s + self.end, 3), "kind": self.kind}


@dataclass
class Attribution:
    speaker: str | None               # "A", "B", or None for a voice that is neither
    confidence: float                 # 0..1 that `speaker` is right
    segments: list[Segment] = field(default_factory=list)
    voiced_s: float = 0.0
    known: float = 0.0                # how much the voice sounds like an enrolled partner
    elapsed_ms: float = 0.0           # time taken to decide
    method: str = ""
    window_times: np.ndarray | None = None     # (W, 2) start, end of each scoring window
    window_evidence: np.ndarray | None = None  # (W,) log-odds of the first label per window
    window_voiced: np.ndarray | None = None    # (W,) voiced share per window
    labels: tuple[str, ...] = ("A", "B")
    # kept for `SpeakerIdentifier.interruptions` to check a candidate with the embeddings
    window_llr: np.ndarray | None = field(default=None, repr=False, compare=False)  # unclipped
    audio: np.ndarray | None = field(default=None, repr=False, compare=False)
    voiced: np.ndarray | None = field(default=None, repr=False, compare=False)
    chunk_votes: np.ndarray | None = field(default=None, repr=False, compare=False)
    checked: dict | None = field(default=None, repr=False, compare=False)  # candidate leans
    talk_over: list[tuple[float, float]] | None = field(default=None, repr=False, compare=False)
    faint_talk_over: list[tuple[float, float]] = field(default_factory=list, repr=False,
                                                       compare=False)

    def record_fields(self) -> dict[str, object]:
        """What the turn's record entry gets: {"speaker":.., "speaker_confidence":..}."""
        return {"speaker": self.speaker, "speaker_confidence": round(self.confidence, 3),
                "speaker_segments": [[round(s.start, 2), round(s.end, 2), s.speaker]
                                     for s in self.segments]}
