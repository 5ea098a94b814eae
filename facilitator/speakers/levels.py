"""Channel levels of two-microphone audio, in 30 ms frames: what enrollment measures of
each voice (`channel_powers_when_voiced`) and what `channels.ChannelAttributor` unmixes.
"""

from __future__ import annotations

import numpy as np

from facilitator.core import FRAME_MS, SAMPLE_RATE

FRAME = SAMPLE_RATE * FRAME_MS // 1000     # samples in a 30 ms frame
FRAME_S = FRAME_MS / 1000


def frame_powers(stereo: np.ndarray) -> np.ndarray:
    """(frames, 2) mean power of each channel in 30 ms frames."""
    stereo = np.asarray(stereo, np.float64)
    n = stereo.shape[0] // FRAME
    return np.mean(stereo[: n * FRAME].reshape(n, FRAME, stereo.shape[1]) ** 2, axis=1)


def smoothed(values: np.ndarray, frames: int) -> np.ndarray:
    """(frames, 2) values averaged over `frames` frames, each column on its own."""
    kernel = np.ones(frames) / frames
    offset, n = (frames - 1) // 2, values.shape[0]   # (never longer than `values`, as "same" is
    return np.stack([np.convolve(values[:, c], kernel, "full")[offset:offset + n]  # for short ones)
                     for c in range(values.shape[1])], axis=1)


def to_db(power: np.ndarray) -> np.ndarray:
    return 10 * np.log10(power + 1e-12)


def noise_floor_db(power: np.ndarray) -> float:
    """The level of the pauses between words: the 10th percentile of the frames' total
    power (dB)."""
    return float(np.percentile(to_db(power.sum(axis=1)), 10)) if power.size else -120.0


def channel_powers_when_voiced(stereo: np.ndarray, voiced: np.ndarray) -> list[float]:
    """Mean power of each channel over the voiced frames (what enrollment keeps)."""
    powers = frame_powers(stereo)
    mask = voiced[: powers.shape[0]]
    rows = powers[: mask.size][mask] if mask.any() else powers
    # the louder half of voiced frames: the voice, not its pauses
    loud = rows[np.argsort(rows.sum(axis=1))[rows.shape[0] // 2:]]
    return [float(x) for x in loud.mean(axis=0)]
