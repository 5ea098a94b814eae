"""Two voices from a set of CAM++ embeddings, and the embeddings of a voice sample.

`two_clusters` splits unit-length embeddings (the tracks of `local.py`) in two by
spherical k-means (cosine), seeded k-means++-style (the second seed drawn far from the
first) from `RESTARTS` starts and kept at the best fit. With two voices and 192-d
embeddings the job is small (an hour of dialogue gives some 1500 tracks), so numpy does
it in milliseconds; scikit-learn's KMeans or AgglomerativeClustering would add a large
dependency for the same answer. Each track is weighted by its speech (up to 5 s), not
counted per window, and k-means with a far-apart second seed does not need the partners
to talk equally long (one talking three quarters of the time is tested).

`embed_pieces` embeds the speech of a voice sample (an enrollment): each piece run
through CAM++'s frame-level network once (a long piece in passes of at most `PASS_S`) and
pooled over its voiced frames, whole when short, else in windows of `WINDOW_S` every
`HOP_S`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from facilitator.core import SAMPLE_RATE
from facilitator.speakers.kaldi_fbank import FRAME_SHIFT, kaldi_fbank

LONG_PIECE_S = 2.0        # pieces longer than this are embedded window by window
WINDOW_S = 1.5
HOP_S = 0.5
PASS_S = 20.0             # at most this much audio through the network at once
RESTARTS = 8


@dataclass(frozen=True)
class Units:
    """Embedded stretches of speech, in time order."""

    starts: np.ndarray        # (N,) s
    ends: np.ndarray          # (N,) s
    piece: np.ndarray         # (N,) index of the speech piece each lies in
    emb: np.ndarray           # (N, 192) unit-length float32
    voiced: np.ndarray        # (N,) share of the unit that is voiced

    @property
    def size(self) -> int:
        return int(self.starts.size)

    @property
    def durations(self) -> np.ndarray:
        return self.ends - self.starts


def _windows(start: float, end: float) -> list[tuple[float, float]]:
    """Units of a piece: itself when short, else windows of WINDOW_S every HOP_S (the
    last one flush with the piece's end)."""
    if end - start <= LONG_PIECE_S:
        return [(start, end)]
    count = int(np.floor((end - start - WINDOW_S) / HOP_S)) + 1
    spans = [(start + k * HOP_S, start + k * HOP_S + WINDOW_S) for k in range(count)]
    if spans[-1][1] < end - 1e-6:
        spans.append((end - WINDOW_S, end))
    return spans


def embed_pieces(model, audio: np.ndarray, voiced: np.ndarray, frame_s: float,  # noqa: ANN001
                 pieces: list[tuple[float, float]], mono: Callable[[int, int], np.ndarray],
                 progress: Callable[[float], None] | None = None) -> Units:
    """CAM++ (`model`: a `CAMPPlus`) units of every piece; `voiced` the speech frames
    (`frame_s` each), `mono(lo, hi)` mono float32 samples of the recording."""
    starts, ends, piece_of, embs, shares = [], [], [], [], []
    total = sum(e - s for s, e in pieces) or 1.0
    done = 0.0
    for index, (p_start, p_end) in enumerate(pieces):
        spans = _windows(p_start, p_end)
        at = 0
        while at < len(spans):
            pass_start = spans[at][0]
            stop = at
            while stop + 1 < len(spans) and spans[stop + 1][1] - pass_start <= PASS_S:
                stop += 1
            chunk = spans[at: stop + 1]
            emb, share = _embed_pass(model, voiced, frame_s, chunk, mono)
            for (s, e), vec, sh in zip(chunk, emb, share):
                starts.append(s), ends.append(e), piece_of.append(index)
                embs.append(vec), shares.append(sh)
            at = stop + 1
        done += p_end - p_start
        if progress is not None:
            progress(done / total)
    dim = 192
    return Units(np.array(starts, float), np.array(ends, float), np.array(piece_of, int),
                 np.array(embs, np.float32).reshape(-1, dim), np.array(shares, float))


def _embed_pass(model, voiced: np.ndarray, frame_s: float,  # noqa: ANN001
                spans: list[tuple[float, float]], mono: Callable[[int, int], np.ndarray]
                ) -> tuple[np.ndarray, np.ndarray]:
    """One network pass over spans[0].start .. spans[-1].end; unit embeddings pooled over
    the voiced frames of each span, and each span's voiced share."""
    lo = int(spans[0][0] * SAMPLE_RATE)
    hi = int(spans[-1][1] * SAMPLE_RATE)
    fb = kaldi_fbank(mono(lo, hi))
    # each 10 ms fbank frame voiced or not, from the VAD frames
    centre = lo / SAMPLE_RATE + (np.arange(fb.shape[0]) * FRAME_SHIFT + 200) / SAMPLE_RATE
    idx = np.clip((centre / frame_s).astype(int), 0, max(voiced.size - 1, 0))
    mask = voiced[idx] if voiced.size else np.zeros(fb.shape[0], bool)
    ref = fb[mask] if mask.sum() >= 50 else fb
    fb -= ref.mean(axis=0, keepdims=True)
    out = model.frames(fb)
    m = np.zeros(2 * out.shape[1])
    m[: min(mask.size, m.size)] = mask[: m.size]
    sub = m.reshape(-1, 2).mean(axis=1)
    base = lo / SAMPLE_RATE
    s_idx = np.array([int((s - base) * 50) for s, _ in spans])
    e_idx = np.array([max(int(np.ceil((e - base) * 50)), int((s - base) * 50) + 1)
                      for s, e in spans])
    emb = model.pool(out, s_idx, e_idx, sub)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True) + 1e-9
    fr_s = np.clip(((np.array([s for s, _ in spans]) - base) * 100).astype(int), 0, mask.size)
    fr_e = np.clip(((np.array([e for _, e in spans]) - base) * 100).astype(int), 0, mask.size)
    csum = np.concatenate([[0.0], np.cumsum(mask)])
    share = (csum[fr_e] - csum[fr_s]) / np.maximum(fr_e - fr_s, 1)
    return emb.astype(np.float32), share


def unit_centre(emb: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Mean direction of unit-length rows (weighted), unit length."""
    c = (emb * (1.0 if weights is None else weights[:, None])).sum(axis=0)
    return c / (np.linalg.norm(c) + 1e-9)


def two_clusters(emb: np.ndarray, weights: np.ndarray,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Spherical k-means with two clusters: (labels 0/1 per row, (2, dim) centroids)."""
    n = emb.shape[0]
    if n < 2:
        return np.zeros(n, int), np.stack([unit_centre(emb), unit_centre(emb)])
    rng = np.random.default_rng(seed)
    best: tuple[float, np.ndarray, np.ndarray] | None = None
    probs = weights / weights.sum()
    for _ in range(RESTARTS):
        first = emb[rng.choice(n, p=probs)]
        far = np.clip(1.0 - emb @ first, 0.0, None) ** 2 * weights
        second = emb[rng.choice(n, p=far / far.sum())] if far.sum() > 0 else emb[rng.integers(n)]
        centres = np.stack([first, second])
        labels = np.zeros(n, int)
        for _ in range(30):
            new = np.argmax(emb @ centres.T, axis=1)
            if (new == new[0]).all():
                break
            centres = np.stack([unit_centre(emb[new == k], weights[new == k]) for k in (0, 1)])
            if (new == labels).all():
                break
            labels = new
        fit = float((np.take_along_axis(emb @ centres.T, labels[:, None], 1)[:, 0] * weights).sum())
        if best is None or fit > best[0]:
            best = (fit, labels.copy(), centres)
    assert best is not None
    return best[1], best[2]
