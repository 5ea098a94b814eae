"""From labelled tracks to turns: per VAD frame, which partner's voice is heard, then runs
of one voice cut into turns.

Each track (`local.py`) votes for its partner on the frames it speaks in, weighted by
where they lie in its chunk and by how sure the track's label is. A frame goes to the
partner with more votes; where both are heard about equally (two voices at once) it stays
with whoever was speaking, so a backchannel or a moment of talking over does not cut the
turn. Runs shorter than `MIN_RUN_S` inside continuous speech are a flicker of the labels,
not a turn, and take their neighbours' voice. Runs of one voice are one turn until a
silence of `[turns] incomplete_end_s` (the longest the live loop waits) or `max_turn_s`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from facilitator.config import TurnsConfig

MIN_RUN_S = 0.25          # shorter runs of a voice inside speech take the neighbours' voice
BOTH_SHARE = 0.5          # share of the chunks hearing a frame that hear two voices in it
                          # for the frame to hold both
END_PAD_S = 0.2           # a turn reaches this far into the silence around it (at most
                          # half the gap to its neighbour)
PIECE_MARGIN = 0.1        # cosine by which a short piece must lean to the other voice
GAP_FRAMES = 5            # unvoiced frames (at 30 ms) that separate two runs


@dataclass(frozen=True)
class Stretch:
    start: float
    end: float
    label: int            # 0 or 1
    confidence: float


def frame_votes(n_frames: int, tracks, labels: np.ndarray,  # noqa: ANN001 (local.Tracks)
                sure: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per frame: (n, 2) votes per partner, (n, 2) the same weighted by how sure each
    track's label is, and (n,) the share of the chunks hearing it that hear two voices."""
    votes = np.zeros((n_frames, 2), np.float32)
    certain = np.zeros((n_frames, 2), np.float32)
    both = np.zeros(n_frames, np.float32)
    for idx, w, over, label, p in zip(tracks.frames, tracks.weights, tracks.overlap,
                                      labels, sure):
        np.add.at(votes[:, int(label)], idx, w)
        np.add.at(certain[:, int(label)], idx, w * float(p))
        np.add.at(both, idx[over], 0.5 * w[over])
    heard = votes.sum(axis=1) - both
    return votes, certain, np.where(heard > 0, both / np.maximum(heard, 1e-9), 0.0)


def frame_labels(voiced: np.ndarray, votes: np.ndarray, both: np.ndarray) -> np.ndarray:
    """Per frame 0 / 1 (the voice heard), -1 where nobody speaks; where two voices are
    heard at once the frame stays with whoever was speaking."""
    labels = np.full(voiced.size, -1, np.int8)
    idx = np.flatnonzero(voiced)
    if idx.size == 0:
        return labels
    v = votes[idx]
    best = np.argmax(v, axis=1).astype(np.int8)
    known = v.sum(axis=1) > 0
    two = both[idx] >= BOTH_SHARE
    out = np.full(idx.size, -1, np.int8)
    last = -1
    for j in range(idx.size):
        if known[j] and not (two[j] and last >= 0):
            last = int(best[j])
        out[j] = last
    # frames before the first vote take the first voice heard
    if (out < 0).any() and (out >= 0).any():
        out[out < 0] = out[np.argmax(out >= 0)]
    out[out < 0] = 0
    labels[idx] = out
    return labels


def overrule_pieces(labels: np.ndarray, pieces: list[tuple[float, float]],
                    embeddings: dict[int, np.ndarray], centres: np.ndarray,
                    frame_s: float) -> np.ndarray:
    """A short piece of speech between two silences all given to one voice, whose own
    embedding is at least `PIECE_MARGIN` nearer the other voice's centre, goes to the
    other voice: the segmentation network can take a short answer ("Okay.") for the
    voice around it."""
    out = labels.copy()
    for i, emb in embeddings.items():
        start, end = pieces[i]
        span = np.arange(int(start / frame_s), min(int(np.ceil(end / frame_s)), labels.size))
        span = span[labels[span] >= 0]
        if span.size == 0 or (labels[span] != labels[span[0]]).any():
            continue
        own = int(labels[span[0]])
        cos = centres @ emb
        if cos[1 - own] - cos[own] >= PIECE_MARGIN:
            out[span] = 1 - own
    return out


def _runs(labels: np.ndarray) -> list[list[int]]:
    """[first, end, label] runs of voiced frames of one label; unvoiced gaps shorter than
    GAP_FRAMES are inside a run."""
    runs: list[list[int]] = []
    for i in np.flatnonzero(labels >= 0):
        lab = int(labels[i])
        if runs and runs[-1][2] == lab and i - runs[-1][1] < GAP_FRAMES:
            runs[-1][1] = i + 1
        else:
            runs.append([int(i), int(i) + 1, lab])
    return runs


def turns_of(labels: np.ndarray, votes: np.ndarray, certain: np.ndarray, frame_s: float,
             config: TurnsConfig) -> list[Stretch]:
    """The turns: runs of one voice joined over pauses, with their confidence."""
    runs = _runs(labels)
    short = int(round(MIN_RUN_S / frame_s))
    for k, run in enumerate(runs):
        if run[1] - run[0] >= short or len(runs) == 1:
            continue
        before = runs[k - 1] if k > 0 else None
        after = runs[k + 1] if k + 1 < len(runs) else None
        touching = [r for r in (before, after)
                    if r is not None and min(abs(r[1] - run[0]), abs(run[1] - r[0])) < GAP_FRAMES]
        if touching:
            run[2] = max(touching, key=lambda r: r[1] - r[0])[2]
    joined: list[list[int]] = []
    max_gap = config.incomplete_end_s / frame_s
    max_len = config.max_turn_s / frame_s
    for run in runs:
        if joined and joined[-1][2] == run[2] and run[0] - joined[-1][1] < max_gap \
                and run[1] - joined[-1][0] <= max_len:
            joined[-1][1] = run[1]
        else:
            joined.append(list(run))
    min_frames = config.min_turn_ms / 1000 / frame_s
    kept = [r for r in joined if r[1] - r[0] >= min_frames] or joined
    out = []
    for k, (first, end, lab) in enumerate(kept):
        span = slice(first, end)
        on = labels[span] == lab
        total = votes[span].sum(axis=1)
        share = np.where(total > 0, votes[span][:, lab] / np.maximum(total, 1e-9), 0.5)
        sure = np.where(votes[span][:, lab] > 0,
                        certain[span][:, lab] / np.maximum(votes[span][:, lab], 1e-9), 0.5)
        confidence = float(np.mean((share * sure)[on])) if on.any() else 0.5
        start_s, end_s = first * frame_s, end * frame_s
        before = kept[k - 1][1] * frame_s if k > 0 else -math.inf
        after = kept[k + 1][0] * frame_s if k + 1 < len(kept) else math.inf
        lo = max(start_s - END_PAD_S, (start_s + before) / 2, 0.0)
        hi = min(end_s + END_PAD_S, (end_s + after) / 2, labels.size * frame_s)
        out.append(Stretch(round(float(lo), 3), round(float(hi), 3), lab, round(confidence, 3)))
    return out
