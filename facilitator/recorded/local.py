"""The voices of a recording followed chunk by chunk: local speakers and their embeddings.

pyannote's segmentation network (the speaker room's `OverlapDetector`) hears 10 s at a
time and says per 17 ms frame which of up to three *local* speakers speak (the powerset
classes of `segmentation.CLASS_SPEAKERS`): within a chunk it follows who speaks to the
frame, short answers ("Hello?") and hand-overs without a pause included, but its numbers
mean nothing from one chunk to the next. So each local speaker of each chunk becomes a
`Track`: one CAM++ embedding pooled over the frames where that speaker speaks alone
(`CAMPPlus.pool` weighted by the frames), which `voices.py` gives to a partner; the
track's frames then carry that partner's label. Chunks of `CHUNK_S` every `STEP_S`
overlap by half, so every moment is heard in the middle of some chunk; a frame's votes
are weighted by how near the middle of its chunk it lies. The network also says where
nobody speaks: webrtcvad's frames are kept only where the chunks hearing them hear a voice.

CAM++'s frame-level network runs once over passes of `PASS_S` every `PASS_STEP_S` (each
chunk lies inside one pass), not once per chunk. Cost per second of audio on one core:
about 8 ms for the segmentation (twice over) and 17 ms for CAM++; chunks and passes
without speech are skipped. Nothing is kept per sample: per chunk its frames' classes,
per track an embedding and its frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from facilitator.core import SAMPLE_RATE
from facilitator.speakers.kaldi_fbank import kaldi_fbank
from facilitator.speakers.segmentation import CLASS_SPEAKERS, FRAME_SPAN, FRAME_STEP

CHUNK_S = 10.0
STEP_S = 5.0
PASS_S = 20.0             # CAM++ runs over this much audio at once ...
PASS_STEP_S = 10.0        # ... every this much (so a 10 s chunk fits in one pass); longer
                          # passes were slower and held more memory (60 s: 1.7x the time,
                          # +145 MB peak on a 30-minute file)
BATCH = 4                 # chunks through the segmentation network at once
PIECE_MAX_S = 3.0         # speech pieces up to this long are also embedded on their own
MIN_TRACK_S = 0.4         # a local speaker needs this much speech alone to be embedded
MIN_CHUNK_SPEECH_S = 0.3  # chunks with less (webrtcvad) speech are skipped
EDGE_WEIGHT = 0.1         # a frame's weight at a chunk's very edge (1 in the middle)
HEARD_SHARE = 0.5         # share of the chunks' weight hearing a voice that keeps a frame
CAM_RATE = 50             # CAM++ output frames per second
ACTIVE = np.array([[k in speakers for k in range(3)] for speakers in CLASS_SPEAKERS])


@dataclass
class Tracks:
    """Every embedded local speaker and the VAD frames it speaks in."""

    emb: list[np.ndarray] = field(default_factory=list)     # unit-length (192,) each
    solo_s: list[float] = field(default_factory=list)       # seconds it speaks alone
    frames: list[np.ndarray] = field(default_factory=list)  # VAD frame indices it speaks in
    weights: list[np.ndarray] = field(default_factory=list)  # ... each one's weight
    overlap: list[np.ndarray] = field(default_factory=list)  # ... a second voice there too
    pieces: list[tuple[float, float]] = field(default_factory=list)  # short speech pieces ...
    piece_emb: dict[int, np.ndarray] = field(default_factory=dict)   # ... embedded on their own

    @property
    def size(self) -> int:
        return len(self.solo_s)

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(T, 192) embeddings and (T,) solo seconds."""
        return (np.array(self.emb, np.float32).reshape(-1, 192), np.array(self.solo_s, float))


def chunk_starts(duration: float) -> list[float]:
    """Chunks of CHUNK_S every STEP_S, the last flush with the end."""
    if duration <= CHUNK_S:
        return [0.0]
    starts = [float(s) for s in np.arange(0.0, duration - CHUNK_S + 1e-6, STEP_S)]
    if starts[-1] + CHUNK_S < duration - 1e-6:
        starts.append(duration - CHUNK_S)
    return starts


def follow(model, network, vad: np.ndarray, frame_s: float,  # noqa: ANN001
           mono: Callable[[int, int], np.ndarray], n_samples: int,
           pieces: list[tuple[float, float]] | None = None,
           progress: Callable[[float], None] | None = None) -> tuple[Tracks, np.ndarray]:
    """The tracks of a recording, and its speech per VAD frame (webrtcvad's `vad`, kept
    where the network hears a voice). `model` a CAMPPlus, `network` an OverlapDetector,
    `mono(lo, hi)` the recording's samples [lo, hi) as mono float32. Each of the speech
    `pieces` up to `PIECE_MAX_S` long is embedded on its own too (`Tracks.piece_emb`,
    from the same CAM++ pass: a short answer the network took for the other voice)."""
    duration = n_samples / SAMPLE_RATE
    csum = np.concatenate([[0], np.cumsum(vad)])

    def vad_s(lo: float, hi: float) -> float:
        return float(csum[min(int(hi / frame_s), vad.size)]
                     - csum[min(int(lo / frame_s), vad.size)]) * frame_s

    starts = [s for s in chunk_starts(duration) if vad_s(s, s + CHUNK_S) >= MIN_CHUNK_SPEECH_S]
    heard = np.zeros(vad.size, np.float32)
    cover = np.zeros(vad.size, np.float32)
    tracks = Tracks(pieces=[p for p in pieces or [] if p[1] - p[0] <= PIECE_MAX_S])
    pass_start, done = 0.0, 0
    while done < len(starts):
        last_pass = pass_start + PASS_S >= duration
        inside = [s for s in starts[done:] if last_pass or s < pass_start + PASS_STEP_S]
        if inside:
            _one_pass(model, network, inside, duration, vad, frame_s, mono, tracks, heard,
                      cover)
            done += len(inside)
            if progress is not None:
                progress(done / len(starts))
        pass_start += PASS_STEP_S
    speech = vad & (heard >= HEARD_SHARE * np.maximum(cover, 1e-9)) & (cover > 0)
    return tracks, speech


def _one_pass(model, network, starts: list[float], duration: float,  # noqa: ANN001
               vad: np.ndarray, frame_s: float,
              mono: Callable[[int, int], np.ndarray], tracks: Tracks,
              heard: np.ndarray, cover: np.ndarray) -> None:
    """The chunks starting at `starts`, all inside one CAM++ pass."""
    length = int(min(CHUNK_S, duration) * SAMPLE_RATE)
    lo = int(starts[0] * SAMPLE_RATE)
    hi = min(int(duration * SAMPLE_RATE), int((starts[-1] + CHUNK_S) * SAMPLE_RATE))
    audio = mono(lo, hi)
    classes = []
    for b in range(0, len(starts), BATCH):
        batch = starts[b: b + BATCH]
        chunks = np.stack([_padded(audio, int(s * SAMPLE_RATE) - lo, length) for s in batch])
        classes += list(np.argmax(network.powerset(chunks), axis=2))
    cam = None
    for start, cls in zip(starts, classes):
        seg_t = start + (np.arange(cls.size) * FRAME_STEP + FRAME_SPAN / 2) / SAMPLE_RATE
        first = int(np.ceil(start / frame_s))
        idx = np.arange(first, min(vad.size, int((start + length / SAMPLE_RATE) / frame_s)))
        if idx.size == 0:
            continue
        centre = (idx + 0.5) * frame_s
        nearest = np.clip(np.searchsorted(seg_t, centre), 0, cls.size - 1)
        position = np.clip((centre - start) / (length / SAMPLE_RATE), 0.0, 1.0)
        weight = (EDGE_WEIGHT + (1 - EDGE_WEIGHT) * (1 - np.abs(2 * position - 1))).astype(np.float32)
        frame_cls = cls[nearest]
        heard[idx] += weight * (frame_cls > 0)
        cover[idx] += weight
        for k in range(3):
            solo = cls == k + 1
            solo_s = float(solo.sum()) * FRAME_STEP / SAMPLE_RATE
            on = ACTIVE[frame_cls, k] & vad[idx]
            if solo_s < MIN_TRACK_S or not on.any():
                continue
            if cam is None:
                cam = _cam_frames(model, audio)
                cam_sq = np.square(cam)
            out_t = lo / SAMPLE_RATE + (np.arange(cam.shape[1]) + 0.5) / CAM_RATE
            w = np.interp(out_t, seg_t, solo.astype(float), left=0.0, right=0.0)
            tracks.emb.append(pooled(model, cam, w, cam_sq))
            tracks.solo_s.append(solo_s)
            tracks.frames.append(idx[on])
            tracks.weights.append(weight[on])
            tracks.overlap.append(frame_cls[on] >= 4)
    if cam is not None:
        _embed_pieces(model, cam, cam_sq, lo, hi, tracks)


def _embed_pieces(model, cam: np.ndarray, cam_sq: np.ndarray, lo: int, hi: int,  # noqa: ANN001
                  tracks: Tracks) -> None:
    """The short pieces inside samples [lo, hi), pooled from the pass's CAM++ output."""
    out_t = lo / SAMPLE_RATE + (np.arange(cam.shape[1]) + 0.5) / CAM_RATE
    for i, (start, end) in enumerate(tracks.pieces):
        if i in tracks.piece_emb or start < lo / SAMPLE_RATE or end > hi / SAMPLE_RATE:
            continue
        w = ((out_t >= start) & (out_t < end)).astype(np.float32)
        if w.sum() >= 8:
            tracks.piece_emb[i] = pooled(model, cam, w, cam_sq)


def _cam_frames(model, audio: np.ndarray) -> np.ndarray:  # noqa: ANN001
    """CAM++'s frame-level output (512, T/2) over a pass, its fbank mean-normalised over
    the louder frames (speech rather than the silences between turns)."""
    fb = kaldi_fbank(audio)
    energy = fb.mean(axis=1)
    loud = energy >= np.percentile(energy, 40) if fb.shape[0] >= 50 else np.ones(fb.shape[0], bool)
    fb -= fb[loud].mean(axis=0, keepdims=True)
    return model.frames(fb)


def pooled(model, frames: np.ndarray, weights: np.ndarray,  # noqa: ANN001
           squared: np.ndarray | None = None) -> np.ndarray:
    """Unit-length CAM++ embedding of `frames` (512, T) pooled over `weights` (T,): the
    arithmetic of `CAMPPlus.pool` (weighted mean and standard deviation, then the dense
    layer) as two matrix products instead of running sums over every frame. `squared`:
    `frames ** 2`, when several poolings of the same frames share it."""
    w = np.asarray(weights, np.float32)
    n = float(w.sum())
    if n < 8:
        w, n = np.ones_like(w), float(w.size)
    mean = frames @ w / n
    squared = np.square(frames) if squared is None else squared
    var = np.maximum(squared @ w - n * mean ** 2, 0.0) / max(n - 1, 1.0)
    stats = np.concatenate([mean, np.sqrt(var)]).astype(np.float32)
    scale, shift = model.dense_bn
    emb = stats @ model.dense_w.T * scale + shift
    return emb / (np.linalg.norm(emb) + 1e-9)


def _padded(audio: np.ndarray, lo: int, length: int) -> np.ndarray:
    block = audio[max(lo, 0): max(lo, 0) + length]
    if block.size < length:
        block = np.pad(block, (0, length - block.size))
    return block

