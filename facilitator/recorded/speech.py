"""Where someone speaks in a whole recording: the speech stretches ("pieces") that
`voices.py` then gives to the partners.

webrtcvad with the turn room's settings (`[turns] vad_aggressiveness`, `frame_ms`) says per
frame whether it is speech, as live; frames far below the loudest part of the recording
never are (as `speakers.audio.voiced_mask`). `local.py` then keeps only the frames where
pyannote's segmentation network hears a voice too, so noise, music or a hum that webrtcvad
takes for a voice are left out. Frames are grouped into pieces split at every gap of
`PIECE_GAP_S` or more. Nothing here decides where a turn ends: a pause inside a turn and
the gap between two turns look alike.

The audio is worked through in blocks of `BLOCK_S`: nothing holds per-sample copies of a
whole long recording (per frame, one bool and one float).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import webrtcvad

from facilitator.config import TurnsConfig
from facilitator.core import SAMPLE_RATE, to_int16

BLOCK_S = 60.0            # audio worked through at once
PIECE_GAP_S = 0.15        # a silence this long ends a piece (word gaps inside speech are shorter)
QUIET_DB = 40.0           # frames this far below the recording's loud frames are never speech
FLOOR_DB = -75.0          # ... nor those below this level (digital silence, hiss)
MIN_PIECE_S = 0.09        # shorter bursts are not speech pieces


@dataclass(frozen=True)
class Speech:
    """Per VAD frame (`frame_s` each) whether someone speaks, and the pieces of speech."""

    frame_s: float
    voiced: np.ndarray                  # (frames,) bool
    pieces: list[tuple[float, float]]   # (start, end) s, time order


def mono_block(audio: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Samples [lo, hi) of mono or (n, 2) float32 or int16 audio, as mono float32 in -1..1
    (channels averaged)."""
    block = audio[lo:hi]
    if block.dtype == np.int16:
        block = block.astype(np.float32) / 32768.0
    if block.ndim == 2:
        block = block.mean(axis=1, dtype=np.float32)
    return np.asarray(block, np.float32)


def find_speech(audio: np.ndarray, config: TurnsConfig,
                progress: Callable[[float], None] | None = None) -> Speech:
    """The speech of mono or (n, 2) float32 16 kHz `audio` by webrtcvad; `progress` gets
    the fraction of the audio done."""
    frame_ms = config.frame_ms if config.frame_ms in (10, 20, 30) else 30
    step = SAMPLE_RATE * frame_ms // 1000
    frame_s = step / SAMPLE_RATE
    n_frames = audio.shape[0] // step
    vad = webrtcvad.Vad(config.vad_aggressiveness)
    vad_says = np.zeros(n_frames, bool)
    levels = np.full(n_frames, -120.0, np.float32)
    block_frames = max(1, int(BLOCK_S / frame_s))
    for first in range(0, n_frames, block_frames):
        last = min(n_frames, first + block_frames)
        mono = mono_block(audio, first * step, last * step)
        frames = mono.reshape(last - first, step)
        levels[first:last] = 10 * np.log10(np.mean(np.square(frames, dtype=np.float32), axis=1)
                                           + 1e-12)
        pcm = to_int16(frames)
        for i in range(last - first):
            if pcm[i].any():
                vad_says[first + i] = vad.is_speech(pcm[i].tobytes(), SAMPLE_RATE)
        if progress is not None:
            progress(last / max(n_frames, 1))
    loud = levels > max(float(np.percentile(levels, 95)) - QUIET_DB, FLOOR_DB) if n_frames \
        else np.zeros(0, bool)
    voiced = vad_says & loud
    return Speech(frame_s, voiced, pieces_of(voiced, frame_s))


def pieces_of(voiced: np.ndarray, frame_s: float, gap_s: float = PIECE_GAP_S,
              min_s: float = MIN_PIECE_S) -> list[tuple[float, float]]:
    """Runs of voiced frames, joined over gaps shorter than `gap_s`, at least `min_s` long."""
    if not voiced.any():
        return []
    edges = np.flatnonzero(np.diff(np.concatenate([[0], voiced.astype(np.int8), [0]])))
    starts, ends = edges[0::2], edges[1::2]
    pieces: list[list[int]] = []
    max_gap = int(round(gap_s / frame_s))
    for s, e in zip(starts, ends):
        if pieces and s - pieces[-1][1] < max_gap:
            pieces[-1][1] = e
        else:
            pieces.append([s, e])
    return [(s * frame_s, e * frame_s) for s, e in pieces if (e - s) * frame_s >= min_s]
