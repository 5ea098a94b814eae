"""Diagonal-covariance Gaussian mixture models in numpy: EM training, MAP adaptation, scoring.

Used as a weight-free voice model: a mixture is trained on the pooled enrollment of both
partners (a tiny "background" model of this room), then its means are MAP-adapted to each
partner. Scoring a frame against two adapted models of one background gives a
log-likelihood ratio that is stable even on short windows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

VAR_FLOOR = 1e-3


@dataclass
class DiagGMM:
    weights: np.ndarray      # (K,)
    means: np.ndarray        # (K, D)
    variances: np.ndarray    # (K, D)

    def _log_components(self, x: np.ndarray) -> np.ndarray:
        """(N, K) log of weight * N(x | mean_k, var_k)."""
        inv = 1.0 / self.variances
        const = (np.log(self.weights) - 0.5 * np.sum(np.log(2 * np.pi * self.variances), axis=1))
        quad = (x * x) @ inv.T - 2.0 * x @ (self.means * inv).T + np.sum(self.means ** 2 * inv, axis=1)
        return const[None, :] - 0.5 * quad

    def frame_loglik(self, x: np.ndarray) -> np.ndarray:
        """(N,) log-likelihood of each frame."""
        lc = self._log_components(np.asarray(x, np.float64))
        top = lc.max(axis=1, keepdims=True)
        return (top[:, 0] + np.log(np.exp(lc - top).sum(axis=1)))

    def posteriors(self, x: np.ndarray) -> np.ndarray:
        lc = self._log_components(np.asarray(x, np.float64))
        lc -= lc.max(axis=1, keepdims=True)
        p = np.exp(lc)
        return p / p.sum(axis=1, keepdims=True)

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}weights": self.weights, f"{prefix}means": self.means,
                f"{prefix}variances": self.variances}

    @classmethod
    def from_arrays(cls, data: dict[str, np.ndarray], prefix: str) -> "DiagGMM":
        return cls(np.asarray(data[f"{prefix}weights"], np.float64),
                   np.asarray(data[f"{prefix}means"], np.float64),
                   np.asarray(data[f"{prefix}variances"], np.float64))


def shared_variance_loglik(models: list[DiagGMM], x: np.ndarray) -> np.ndarray:
    """(N, M) frame log-likelihoods under models that share weights and variances (a
    UBM and its mean-adapted children): the quadratic term is computed once, the rest
    in one matrix product for all models (float32)."""
    x = np.asarray(x, np.float32)
    base = models[0]
    inv = (1.0 / base.variances).astype(np.float32)                         # (K, D)
    k = inv.shape[0]
    means = np.concatenate([m.means for m in models]).astype(np.float32)     # (M*K, D)
    inv_all = np.tile(inv, (len(models), 1))
    const = np.concatenate([
        np.log(m.weights) - 0.5 * np.sum(np.log(2 * np.pi * m.variances), axis=1)
        - 0.5 * np.sum(m.means ** 2 / m.variances, axis=1) for m in models]).astype(np.float32)
    quad = (x * x) @ inv.T                                                   # (N, K)
    cross = x @ (means * inv_all).T                                          # (N, M*K)
    lc = const[None, :] + cross - 0.5 * np.tile(quad, (1, len(models)))
    lc = lc.reshape(x.shape[0], len(models), k)
    top = lc.max(axis=2, keepdims=True)
    return (top[:, :, 0] + np.log(np.exp(lc - top).sum(axis=2))).astype(np.float64)


def nearest(x: np.ndarray, means: np.ndarray, rows: int = 512) -> np.ndarray:
    """Index of the nearest mean for each row, `rows` at a time (the whole (n, k, d)
    difference at once would be ~100 MB per enrollment; the answer is the same)."""
    return np.concatenate([np.argmin(((x[s:s + rows, None, :] - means[None]) ** 2).sum(-1), axis=1)
                           for s in range(0, len(x), rows)]) if len(x) else np.zeros(0, int)


def train_gmm(x: np.ndarray, n_components: int = 32, iterations: int = 20,
              seed: int = 0) -> DiagGMM:
    """Fit a diagonal GMM by EM, started from k-means++-style seeds (deterministic)."""
    x = np.asarray(x, np.float64)
    rng = np.random.default_rng(seed)
    n, d = x.shape
    k = max(1, min(n_components, n // 8))
    # k-means++ seeding, then a few Lloyd steps
    centers = [x[rng.integers(n)]]
    dist = np.sum((x - centers[0]) ** 2, axis=1)
    for _ in range(1, k):
        probs = dist / dist.sum() if dist.sum() > 0 else None
        centers.append(x[rng.choice(n, p=probs)])
        dist = np.minimum(dist, np.sum((x - centers[-1]) ** 2, axis=1))
    means = np.array(centers)
    for _ in range(5):
        labels = nearest(x, means)
        for j in range(k):
            members = x[labels == j]
            if len(members):
                means[j] = members.mean(axis=0)
    global_var = x.var(axis=0) + VAR_FLOOR
    gmm = DiagGMM(np.full(k, 1.0 / k), means, np.tile(global_var, (k, 1)))
    for _ in range(iterations):
        post = gmm.posteriors(x)
        nk = post.sum(axis=0) + 1e-6
        means = (post.T @ x) / nk[:, None]
        variances = (post.T @ (x * x)) / nk[:, None] - means ** 2
        variances = np.maximum(variances, VAR_FLOOR + 0.01 * global_var)
        gmm = DiagGMM(nk / nk.sum(), means, variances)
    return gmm


def map_adapt(ubm: DiagGMM, x: np.ndarray, relevance: float = 8.0,
              adapt_variances: bool = False) -> DiagGMM:
    """Mean (optionally variance) MAP adaptation of `ubm` to the frames `x`."""
    x = np.asarray(x, np.float64)
    post = ubm.posteriors(x)
    nk = post.sum(axis=0)
    alpha = (nk / (nk + relevance))[:, None]
    ex = (post.T @ x) / np.maximum(nk, 1e-6)[:, None]
    means = alpha * ex + (1 - alpha) * ubm.means
    variances = ubm.variances
    if adapt_variances:
        ex2 = (post.T @ (x * x)) / np.maximum(nk, 1e-6)[:, None]
        variances = alpha * ex2 + (1 - alpha) * (ubm.variances + ubm.means ** 2) - means ** 2
        variances = np.maximum(variances, VAR_FLOOR)
    return DiagGMM(ubm.weights.copy(), means, variances)
