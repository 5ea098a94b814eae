"""What every voice model gives the identifier: `WindowScores` for windows of `window_s`
every `hop_s` (a similarity to each enrolled partner and how voiced each window is),
behind the `Backend` / `Scorer` interface that `backends.make_backend` returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from facilitator.core import SAMPLE_RATE
from facilitator.speakers.features import HOP

FRAME_S = HOP / SAMPLE_RATE


class BackendUnavailable(Exception):
    """The chosen voice model cannot be loaded (package missing); the message says which."""


@dataclass
class WindowScores:
    """Scores of windows over a stretch of audio (times relative to its start)."""

    starts: np.ndarray          # (W,) s
    ends: np.ndarray            # (W,) s
    scores: np.ndarray          # (W, S) similarity to each enrolled speaker, higher = closer
    known: np.ndarray           # (W,) how much the window sounds like any enrolled speaker
    voiced: np.ndarray          # (W,) fraction of voiced frames
    speakers: tuple[str, ...]
    frame_llr: np.ndarray | None = None   # (F,) frame-level A-vs-B score, when available


def window_bounds(n_frames: int, window_s: float, hop_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Frame ranges [start, end) of windows of `window_s` every `hop_s`; one if shorter."""
    win = max(1, int(round(window_s / FRAME_S)))
    hop = max(1, int(round(hop_s / FRAME_S)))
    if n_frames <= win:
        return np.array([0]), np.array([max(n_frames, 1)])
    starts = np.arange(0, n_frames - win + 1, hop)
    if starts[-1] + win < n_frames:
        starts = np.append(starts, n_frames - win)
    return starts, starts + win


def frame_voicing(voiced_30ms: np.ndarray, n_frames: int) -> np.ndarray:
    """Map a 30 ms VAD decision to 10 ms feature frames (frame i centred at i*10 ms+12 ms)."""
    if voiced_30ms.size == 0:
        return np.zeros(n_frames, bool)
    centre_ms = np.arange(n_frames) * 10 + 12
    idx = np.minimum(centre_ms // 30, voiced_30ms.size - 1)
    return voiced_30ms[idx]


class Backend(Protocol):
    name: str

    def profile_data(self, audio: np.ndarray, voiced: np.ndarray) -> dict[str, np.ndarray]:
        """What a voice profile keeps from enrollment audio (voiced = 30 ms VAD mask)."""

    def build(self, profiles: dict[str, dict[str, np.ndarray]]) -> "Scorer":
        """A scorer for these enrolled speakers (label -> profile data)."""

    def warm_up(self) -> None:
        """Load and run the model once so the first real call is fast."""


class Scorer(Protocol):
    speakers: tuple[str, ...]

    def score(self, audio: np.ndarray, voiced: np.ndarray, window_s: float,
              hop_s: float) -> WindowScores:
        ...
