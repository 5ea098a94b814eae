"""Two microphones in one stereo recording: which channel each stretch of speech is
louder on. Without an enrollment there is no mixing matrix to unmix the channels (as
`speakers/channels.py` does live), but each partner is nearer their own microphone, so
the difference of the channels' levels (dB) over a stretch falls in one of two groups,
whatever the two microphones' gains: `channel_split` finds them (two means in one
dimension) and says whether they stand far enough apart to decide by.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facilitator.core import SAMPLE_RATE

MIN_SPLIT_DB = 6.0        # the two groups' levels must differ this much to decide by them
SURE_DB = 3.0             # a stretch this far from the midpoint is decided by the levels


@dataclass(frozen=True)
class ChannelSplit:
    """Per stretch the level difference (channel 0 - channel 1, dB), and the midpoint
    between the two groups; `usable` when the groups stand `MIN_SPLIT_DB` apart."""

    difference_db: np.ndarray
    midpoint_db: float
    spread_db: float
    usable: bool


def channels_differ(audio: np.ndarray) -> bool:
    """Whether (n, 2) audio holds two different channels (not one copied twice)."""
    if audio.ndim != 2 or audio.shape[1] < 2:
        return False
    step = max(1, audio.shape[0] // 2_000_000)
    sample = audio[::step].astype(np.float32)
    if audio.dtype == np.int16:
        sample /= 32768.0
    return bool(np.max(np.abs(sample[:, 0] - sample[:, 1])) > 1e-3)


def level_difference(audio: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """(N,) channel 0 minus channel 1 in dB over each stretch [start, end) s."""
    out = np.zeros(starts.size)
    for i, (s, e) in enumerate(zip(starts, ends)):
        block = audio[int(s * SAMPLE_RATE): max(int(e * SAMPLE_RATE), int(s * SAMPLE_RATE) + 1)]
        power = np.mean(np.square(block, dtype=np.float32), axis=0) + 1e-10
        out[i] = 10 * np.log10(power[0] / power[1])
    return out


def channel_split(difference_db: np.ndarray, weights: np.ndarray) -> ChannelSplit:
    """Two groups of level differences (1-D two-means, weighted)."""
    d = np.asarray(difference_db, float)
    if d.size < 2:
        return ChannelSplit(d, 0.0, 0.0, False)
    lo, hi = np.percentile(d, 10), np.percentile(d, 90)
    for _ in range(30):
        mid = (lo + hi) / 2
        low, high = d < mid, d >= mid
        if not low.any() or not high.any():
            break
        new_lo = float(np.average(d[low], weights=weights[low] + 1e-9))
        new_hi = float(np.average(d[high], weights=weights[high] + 1e-9))
        if abs(new_lo - lo) < 1e-4 and abs(new_hi - hi) < 1e-4:
            break
        lo, hi = new_lo, new_hi
    spread = float(hi - lo)
    return ChannelSplit(d, float((lo + hi) / 2), spread, spread >= MIN_SPLIT_DB)
