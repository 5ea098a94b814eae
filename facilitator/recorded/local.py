"""The voices of a recording followed chunk by chunk: local speakers and their embeddings.

pyannote's segmentation network (the speaker room's `OverlapDetector`) hears 10 s at a
time and says per 17 ms frame which of up to three *local* speakers speak (the powerset
classes of `segmentation.CLASS_SPEAKERS`): within a chunk it follows who speaks to the
frame, short answers ("Hello?") and hand-overs without a pause included, but its numbers
mean nothing from one chunk to the next. So each local speaker of each chunk becomes a
`Track`: one CAM++ embedding pooled over the frames where that speaker speaks alone (one
network pass over the chunk, `CAMPPlus.pool` weighted by the frames), which `voices.py`
gives to a partner; the track's frames then carry that partner's label. Chunks of
`CHUNK_S` every `STEP_S` overlap by half, so every moment is heard in the middle of some
chunk; a frame's votes are weighted by how near the middle of its chunk it lies.

Cost: about 4 ms (segmentation) and 15 ms (CAM++) per second of audio on one core, twice
over for the overlap; chunks without speech are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from facilitator.core import SAMPLE_RATE
from facilitator.speakers.kaldi_fbank import kaldi_fbank
from facilitator.speakers.segmentation import CLASS_SPEAKERS, FRAME_SPAN, FRAME_STEP

CHUNK_S = 10.0
STEP_S = 5.0
BATCH = 4                 # chunks through the segmentation network at once
MIN_TRACK_S = 0.4         # a local speaker needs this much speech alone to be embedded
MIN_CHUNK_SPEECH_S = 0.3  # chunks with less speech are skipped
EDGE_WEIGHT = 0.1         # a frame's weight at a chunk's very edge (1 in the middle)


@dataclass(frozen=True)
class Tracks:
    """Every embedded local speaker, and per VAD frame of the recording how strongly
    each track is heard there (sparse: one (frames, weights) pair per track)."""

    emb: np.ndarray                        # (T, 192) unit length
    solo_s: np.ndarray                     # (T,) seconds the track speaks alone
    start: np.ndarray                      # (T,) s of its first frame (for "heard first")
    frames: list[np.ndarray]               # per track, VAD frame indices it speaks in
    weights: list[np.ndarray]              # ... and each one's weight (chunk position)
    overlap: list[np.ndarray]              # ... and whether a second voice speaks there too
    first_chunk: np.ndarray                # (T,) s where its chunk starts

    @property
    def size(self) -> int:
        return int(self.solo_s.size)


def chunk_starts(duration: float) -> list[float]:
    """Chunks of CHUNK_S every STEP_S, the last flush with the end."""
    if duration <= CHUNK_S:
        return [0.0]
    starts = list(np.arange(0.0, duration - CHUNK_S + 1e-6, STEP_S))
    if starts[-1] + CHUNK_S < duration - 1e-6:
        starts.append(duration - CHUNK_S)
    return [float(s) for s in starts]


def follow(model, network, voiced: np.ndarray, frame_s: float,  # noqa: ANN001
           mono: Callable[[int, int], np.ndarray], n_samples: int,
           progress: Callable[[float], None] | None = None) -> Tracks:
    """Tracks of the recording: `model` a CAMPPlus, `network` an OverlapDetector,
    `voiced` the speech per VAD frame (`frame_s`), `mono(lo, hi)` its samples."""
    duration = n_samples / SAMPLE_RATE
    csum = np.concatenate([[0], np.cumsum(voiced)])
    starts = [s for s in chunk_starts(duration)
              if (csum[min(int((s + CHUNK_S) / frame_s), voiced.size)]
                  - csum[min(int(s / frame_s), voiced.size)]) * frame_s >= MIN_CHUNK_SPEECH_S]
    out: dict[str, list] = {k: [] for k in ("emb", "solo", "start", "frames", "weights", "overlap",
                                            "chunk")}
    length = int(min(CHUNK_S, duration) * SAMPLE_RATE)
    for b in range(0, len(starts), BATCH):
        batch = starts[b: b + BATCH]
        audio = np.stack([_padded(mono, int(s * SAMPLE_RATE), length) for s in batch])
        probs = network.powerset(audio)
        for s, chunk, p in zip(batch, audio, probs):
            _chunk_tracks(model, s, chunk, p, voiced, frame_s, out)
        if progress is not None:
            progress(min(1.0, (b + len(batch)) / max(len(starts), 1)))
    dim = 192
    return Tracks(np.array(out["emb"], np.float32).reshape(-1, dim), np.array(out["solo"], float),
                  np.array(out["start"], float), out["frames"], out["weights"],
                  out["overlap"], np.array(out["chunk"], float))


def _padded(mono: Callable[[int, int], np.ndarray], lo: int, length: int) -> np.ndarray:
    block = mono(lo, lo + length)
    if block.size < length:
        block = np.pad(block, (0, length - block.size))
    return block


def _chunk_tracks(model, start: float, chunk: np.ndarray, probs: np.ndarray,  # noqa: ANN001
                  voiced: np.ndarray, frame_s: float, out: dict[str, list]) -> None:
    """The local speakers of one chunk, embedded, added to `out`."""
    n_seg = probs.shape[0]
    seg_t = (np.arange(n_seg) * FRAME_STEP + FRAME_SPAN / 2) / SAMPLE_RATE   # within chunk
    cls = np.argmax(probs, axis=1)
    # the recording's VAD frames inside this chunk, and the segmentation frame nearest each
    first = int(np.ceil(start / frame_s))
    last = min(voiced.size, int((start + chunk.size / SAMPLE_RATE) / frame_s))
    vad_idx = np.arange(first, max(last, first))
    vad_t = (vad_idx + 0.5) * frame_s - start
    nearest = np.clip(np.searchsorted(seg_t, vad_t), 0, max(n_seg - 1, 0))
    speech_here = voiced[vad_idx] if vad_idx.size else np.zeros(0, bool)
    position = np.clip(vad_t / (chunk.size / SAMPLE_RATE), 0.0, 1.0)
    weight = EDGE_WEIGHT + (1 - EDGE_WEIGHT) * (1 - np.abs(2 * position - 1))
    fb = None
    for k in range(3):
        solo = cls == k + 1
        active = np.array([k in CLASS_SPEAKERS[c] for c in range(7)])[cls]
        solo_s = float(solo.sum()) * FRAME_STEP / SAMPLE_RATE
        if solo_s < MIN_TRACK_S:
            continue
        if fb is None:
            fb = kaldi_fbank(chunk)
            fb_mask = _at(seg_t, (cls > 0).astype(float), (np.arange(fb.shape[0]) * 160 + 200)
                          / SAMPLE_RATE) > 0.5
            ref = fb[fb_mask] if fb_mask.sum() >= 50 else fb
            fb -= ref.mean(axis=0, keepdims=True)
            frames = model.frames(fb)
            out_t = (np.arange(frames.shape[1]) * 320 + 360) / SAMPLE_RATE
        w = _at(seg_t, solo.astype(float), out_t)
        emb = model.pool(frames, np.array([0]), np.array([frames.shape[1]]), w)[0]
        on = active[nearest] & speech_here if vad_idx.size else np.zeros(0, bool)
        if not on.any():
            continue
        out["emb"].append(emb / (np.linalg.norm(emb) + 1e-9))
        out["solo"].append(solo_s)
        out["start"].append(start + float(seg_t[np.argmax(solo)]))
        out["frames"].append(vad_idx[on])
        out["weights"].append(weight[on].astype(np.float32))
        out["overlap"].append((cls >= 4)[nearest][on])
        out["chunk"].append(start)


def _at(times: np.ndarray, values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """`values` sampled at `times`, linearly interpolated at `at`."""
    return np.interp(at, times, values) if times.size else np.zeros(at.size)
