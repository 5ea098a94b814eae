"""Where exactly one voice hands over to the other: each change of voice between the
frame labels (`stretches.frame_labels`) is moved to where the voice really changes.

The segmentation network finds a change to within a few tenths of a second, later on a
voice it knows less (a synthetic one, say). A change at a silence is left there; around a
change inside continuous speech (at most `SEARCH_S` either side, never past the silences
around it nor the neighbouring changes), short windows (`WINDOW_S` every `HOP_S`) are
embedded from one CAM++ pass, or with two microphones measured on both channels, and each
window leans to one partner or the other; the change goes where the windows before it lean
most to the first partner and those after it to the second. Costs one CAM++ pass of about
three seconds per change (some 40 ms).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from facilitator.core import SAMPLE_RATE
from facilitator.speakers.kaldi_fbank import kaldi_fbank

SEARCH_S = 1.0            # a change moves at most this far
KEEP_S = 0.3              # ... leaving each voice this much next to its other changes
GAIN = 4.5                # ... and only when the windows' lean gains this much (cosine sum):
                          # on real speech the network is the better judge of a change
WINDOW_S = 0.6
HOP_S = 0.06
CAM_RATE = 50


def changes(labels: np.ndarray) -> list[tuple[int, int]]:
    """(last frame of the first voice, first frame of the second) of each change of voice."""
    idx = np.flatnonzero(labels >= 0)
    out = []
    for a, b in zip(idx, idx[1:]):
        if labels[a] != labels[b]:
            out.append((int(a), int(b)))
    return out


def refine(labels: np.ndarray, frame_s: float, pieces: list[tuple[float, float]],
           lean: Callable[[float, float, int, int], tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """`labels` with each change inside a piece of continuous speech (`pieces`: a change
    at a silence is already where it belongs) moved to where `lean(lo, hi, first, second)`
    says the voice changes, within that piece; `lean` gives window centres (s) and how
    much each window leans to label `first` over `second` (> 0: first)."""
    out = labels.copy()
    found = changes(labels)
    ends = np.array([e for _, e in pieces]) if pieces else np.zeros(0)
    for k, (a, b) in enumerate(found):
        at = int(np.searchsorted(ends, a * frame_s + frame_s / 2))
        if at >= len(pieces) or not pieces[at][0] <= b * frame_s < pieces[at][1]:
            continue                                   # the change falls in a silence
        first, second = int(labels[a]), int(labels[b])
        lo = max(a * frame_s - SEARCH_S, pieces[at][0],
                 found[k - 1][1] * frame_s if k > 0 else 0.0)
        hi = min(b * frame_s + SEARCH_S, pieces[at][1],
                 found[k + 1][0] * frame_s + frame_s if k + 1 < len(found) else labels.size * frame_s)
        if hi - lo < 2 * WINDOW_S:
            continue
        centres, leaning = lean(lo, hi, first, second)
        if centres.size < 3:
            continue
        grid = np.arange(int(np.ceil(lo / frame_s)), int(hi / frame_s))
        before = np.array([leaning[centres < g * frame_s].sum() for g in grid])
        after = np.array([leaning[centres >= g * frame_s].sum() for g in grid])
        fit = before - after
        # each voice keeps KEEP_S next to its neighbouring changes; a move must gain GAIN
        floor = (found[k - 1][1] * frame_s if k > 0 else 0.0) + KEEP_S
        ceiling = (found[k + 1][0] * frame_s if k + 1 < len(found) else np.inf) - KEEP_S
        allowed = (grid * frame_s >= floor) & (grid * frame_s <= ceiling)
        if not allowed.any():
            continue
        now = fit[int(np.argmin(np.abs(grid - b)))]
        fit = np.where(allowed, fit, -np.inf)
        if fit.max() - now < GAIN:
            continue
        split = int(grid[int(np.argmax(fit))])
        span = np.arange(grid[0], grid[-1] + 1)
        voiced = span[labels[span] >= 0]
        out[voiced[voiced < split]] = first
        out[voiced[voiced >= split]] = second
    return out


def voice_lean(model, mono: Callable[[int, int], np.ndarray], n_samples: int,  # noqa: ANN001
               centres: np.ndarray, pooled: Callable) -> Callable:
    """`lean` for `refine` from the voice: CAM++ windows' cosine to the two centres."""
    def lean(lo: float, hi: float, first: int, second: int) -> tuple[np.ndarray, np.ndarray]:
        a = max(0, int((lo - WINDOW_S / 2) * SAMPLE_RATE))
        b = min(n_samples, int((hi + WINDOW_S / 2) * SAMPLE_RATE))
        fb = kaldi_fbank(mono(a, b))
        fb -= fb.mean(axis=0, keepdims=True)
        cam = model.frames(fb)
        width = int(WINDOW_S * CAM_RATE)
        starts = np.arange(0, max(cam.shape[1] - width, 0) + 1, max(1, int(HOP_S * CAM_RATE)))
        emb = np.stack([pooled(model, cam[:, s: s + width], np.ones(min(width, cam.shape[1] - s)))
                        for s in starts])
        cos = emb @ centres.T
        mid = a / SAMPLE_RATE + (starts + width / 2) / CAM_RATE
        keep = (mid >= lo) & (mid <= hi)
        return mid[keep], (cos[:, first] - cos[:, second])[keep]
    return lean


def level_lean(audio: np.ndarray, midpoint_db: float) -> Callable:
    """`lean` for `refine` from two microphones: label 0 is nearer channel 0."""
    def lean(lo: float, hi: float, first: int, second: int) -> tuple[np.ndarray, np.ndarray]:
        mids = np.arange(lo + WINDOW_S / 4, hi - WINDOW_S / 4, HOP_S)
        half = int(WINDOW_S / 4 * SAMPLE_RATE)
        values = []
        for m in mids:
            c = int(m * SAMPLE_RATE)
            block = audio[max(0, c - half): c + half]
            power = np.mean(np.square(block, dtype=np.float32), axis=0) + 1e-10
            values.append(10 * np.log10(power[0] / power[1]) - midpoint_db)
        d = np.clip(np.array(values), -10.0, 10.0)
        return mids, d if first == 0 else -d
    return lean
