"""The GMM voice model (`method = "gmm"`, and the windows of "campplus"): MFCC + deltas
normalised per utterance (CMVN), a 32-component diagonal GMM trained on the pooled
enrollments of the partners (and pitch-warped copies of them), MAP-adapted to each one.
No weights, numpy only.
"""

from __future__ import annotations

import numpy as np

from facilitator.core import SAMPLE_RATE
from facilitator.speakers.audio import resample, voiced_mask
from facilitator.speakers.features import cmvn, mfcc
from facilitator.speakers.gmm import DiagGMM, map_adapt, shared_variance_loglik, train_gmm
from facilitator.speakers.scoring import FRAME_S, WindowScores, frame_voicing, window_bounds


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
