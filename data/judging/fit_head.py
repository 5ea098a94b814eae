"""Fitting the judge's learned heads (training only; the installed package only scores).

`fit` trains multinomial logistic regression, `fit_trees` a small gradient-boosted
ensemble of depth-2 trees, `fit_blend` both, half and half. They return the runtime's
`Head`, `Trees` and `Blend` (facilitator/judging/head.py), which `train_judge.py` writes
to weights.json. numpy only (no scikit-learn); deterministic: no random state, so the same
rows give the same weights.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from facilitator.judging.head import Blend, Head, Trees  # noqa: E402


def fit(
    rows: list[list[float]],
    labels: list[str],
    classes: list[str],
    l2: float = 0.01,
    steps: int = 3000,
    rate: float = 0.5,
    class_weight: bool = True,
    names: list[str] | None = None,
) -> Head:
    """Multinomial logistic regression by gradient descent, balanced class weights."""
    x = np.asarray(rows, dtype=float)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    x = (x - mean) / scale
    x = np.hstack([np.ones((len(x), 1)), x])
    y = np.zeros((len(x), len(classes)))
    for i, label in enumerate(labels):
        y[i, classes.index(label)] = 1.0
    counts = y.sum(axis=0)
    sample_w = (y @ (len(y) / (len(classes) * np.maximum(counts, 1)))) if class_weight else np.ones(len(y))
    w = np.zeros((x.shape[1], len(classes)))
    reg = np.ones_like(w)
    reg[0, :] = 0.0
    for _ in range(steps):
        z = x @ w
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        grad = x.T @ ((p - y) * sample_w[:, None]) / len(x) + l2 * reg * w
        w -= rate * grad
    return Head(list(classes), w.T.round(5).tolist(), mean.round(5).tolist(), scale.round(5).tolist(),
                list(names) if names is not None else None)


def fit_trees(
    rows: list[list[float]],
    labels: list[str],
    classes: list[str],
    rounds: int = 100,
    depth: int = 2,
    rate: float = 0.1,
    bins: int = 16,
    min_leaf: int = 5,
    lam: float = 1.0,
    names: list[str] | None = None,
) -> Trees:
    """Gradient boosting for softmax loss, balanced class weights."""
    x = np.asarray(rows, dtype=float)
    n, d = x.shape
    y = np.zeros((n, len(classes)))
    for i, label in enumerate(labels):
        y[i, classes.index(label)] = 1.0
    counts = y.sum(axis=0)
    weight = y @ (n / (len(classes) * np.maximum(counts, 1)))
    # Candidate thresholds: quantiles of each feature; each row's bin per feature, computed once.
    cuts = [np.unique(np.round(np.quantile(x[:, j], np.linspace(0.05, 0.95, bins)), 5)) for j in range(d)]
    binned = np.stack([np.searchsorted(cuts[j], x[:, j], side="left") for j in range(d)], axis=1)

    def leaf(g, h):
        return float(np.round(-g.sum() / (h.sum() + lam), 5))

    def grow(idx, g, h, level):
        if level == 0 or len(idx) < 2 * min_leaf:
            return leaf(g[idx], h[idx])
        gs, hs = g[idx], h[idx]
        total_g, total_h = gs.sum(), hs.sum()
        base = total_g * total_g / (total_h + lam)
        best = (1e-9, None, None)
        for j in range(d):
            nb = len(cuts[j]) + 1
            b = binned[idx, j]
            cg = np.cumsum(np.bincount(b, weights=gs, minlength=nb))[:-1]
            ch = np.cumsum(np.bincount(b, weights=hs, minlength=nb))[:-1]
            cn = np.cumsum(np.bincount(b, minlength=nb))[:-1]
            ok = (cn >= min_leaf) & (len(idx) - cn >= min_leaf)
            if not ok.any():
                continue
            gain = cg**2 / (ch + lam) + (total_g - cg) ** 2 / (total_h - ch + lam) - base
            gain[~ok] = -1.0
            t = int(np.argmax(gain))
            if gain[t] > best[0]:
                best = (float(gain[t]), j, t)
        if best[1] is None:
            return leaf(gs, hs)
        j, t = best[1], best[2]
        left = binned[idx, j] <= t
        return [j, float(cuts[j][t]), grow(idx[left], g, h, level - 1), grow(idx[~left], g, h, level - 1)]

    def run(node, rows_x):
        out = np.empty(len(rows_x))
        for i, row in enumerate(rows_x):
            nd = node
            while not isinstance(nd, float):
                nd = nd[2] if row[nd[0]] <= nd[1] else nd[3]
            out[i] = nd
        return out

    f = np.zeros((n, len(classes)))
    trees = []
    everyone = np.arange(n)
    for _ in range(rounds):
        p = np.exp(f - f.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        round_ = []
        for k in range(len(classes)):
            g = (p[:, k] - y[:, k]) * weight
            h = p[:, k] * (1 - p[:, k]) * weight + 1e-6
            tree = grow(everyone, g, h, depth)
            round_.append(tree)
            f[:, k] += rate * run(tree, x)
        trees.append(round_)
    return Trees(list(classes), trees, rate, list(names) if names is not None else None)


def fit_blend(rows: list[list[float]], labels: list[str], classes: list[str],
              names: list[str] | None = None) -> Blend:
    """Boosted trees and logistic regression, half and half."""
    parts = [fit_trees(rows, labels, classes, names=names), fit(rows, labels, classes, names=names)]
    return Blend(parts, [0.5, 0.5], list(names) if names is not None else None)
