"""Tiny learned heads over structured features: logistic regression, boosted trees, a blend.

`Head` is multinomial logistic regression (a few numbers per class); `Trees` is a small
gradient-boosted ensemble of depth-2 trees (a few hundred thresholds), which can say
"covers everything AND flips a negation" where a linear head can only add the two up;
`Blend` averages the two.
Both are kept in `weights.json` beside this file, written by `data/judging/train_judge.py`.
Training is deterministic (no random state): the same data gives the same weights.
Prediction is plain Python, no numpy.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

WEIGHTS_PATH = Path(__file__).with_name("weights.json")


@dataclass
class Head:
    labels: list[str]
    weights: list[list[float]]  # one row per label: bias then one weight per feature
    mean: list[float]
    scale: list[float]
    features: list[str] | None = None  # the feature names, in order (None: the word-overlap set)

    def probabilities(self, features: list[float]) -> dict[str, float]:
        x = [(f - m) / s for f, m, s in zip(features, self.mean, self.scale)]
        logits = [row[0] + sum(w * v for w, v in zip(row[1:], x)) for row in self.weights]
        top = max(logits)
        exps = [math.exp(z - top) for z in logits]
        total = sum(exps)
        return {label: e / total for label, e in zip(self.labels, exps)}

    def to_dict(self) -> dict:
        out = {"labels": self.labels, "weights": self.weights, "mean": self.mean, "scale": self.scale}
        if self.features is not None:
            out["features"] = list(self.features)
        return out


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
    """Fit the head with numpy (used only when training)."""
    import numpy as np

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


@dataclass
class Trees:
    labels: list[str]
    trees: list  # per round, one tree per label; a tree is a leaf value or [feature, threshold, left, right]
    rate: float
    features: list[str] | None = None
    kind: str = "trees"

    def probabilities(self, features: list[float]) -> dict[str, float]:
        logits = [0.0] * len(self.labels)
        for round_ in self.trees:
            for k, node in enumerate(round_):
                while not isinstance(node, (int, float)):
                    node = node[2] if features[node[0]] <= node[1] else node[3]
                logits[k] += self.rate * node
        top = max(logits)
        exps = [math.exp(z - top) for z in logits]
        total = sum(exps)
        return {label: e / total for label, e in zip(self.labels, exps)}

    def to_dict(self) -> dict:
        return {"kind": self.kind, "labels": self.labels, "rate": self.rate,
                "features": list(self.features) if self.features is not None else None, "trees": self.trees}


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
    """Gradient boosting for softmax loss, balanced class weights (numpy, training only)."""
    import numpy as np

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


@dataclass
class Blend:
    """The average of a few heads' probabilities (trees for interactions, a linear head for
    smooth behaviour on replies unlike any seen in training)."""

    parts: list
    share: list[float]
    features: list[str] | None = None
    kind: str = "blend"

    @property
    def labels(self) -> list[str]:
        return self.parts[0].labels

    def probabilities(self, features: list[float]) -> dict[str, float]:
        out = dict.fromkeys(self.labels, 0.0)
        for part, share in zip(self.parts, self.share):
            for label, p in part.probabilities(features).items():
                out[label] += share * p
        return out

    def to_dict(self) -> dict:
        return {"kind": self.kind, "share": self.share, "features": self.features,
                "parts": [p.to_dict() for p in self.parts]}


def fit_blend(rows: list[list[float]], labels: list[str], classes: list[str],
              names: list[str] | None = None) -> Blend:
    """Boosted trees and logistic regression, half and half."""
    parts = [fit_trees(rows, labels, classes, names=names), fit(rows, labels, classes, names=names)]
    return Blend(parts, [0.5, 0.5], list(names) if names is not None else None)


def head_from_dict(spec: dict) -> Head | Trees | Blend:
    if spec.get("kind") == "blend":
        return Blend([head_from_dict(p) for p in spec["parts"]], spec["share"], spec.get("features"))
    return Trees(**spec) if spec.get("kind") == "trees" else Head(**spec)


def heads_from_model(model: dict) -> dict[str, Head | Trees | Blend]:
    """The heads of a weights.json document (or of `train_judge.train`'s result)."""
    return {kind: head_from_dict(spec) for kind, spec in model["heads"].items()}


def load_heads(path: Path = WEIGHTS_PATH) -> dict[str, Head | Trees | Blend]:
    return heads_from_model(json.loads(path.read_text()))
