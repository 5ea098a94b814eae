"""A tiny learned head: multinomial logistic regression over structured features.

The weights are a few numbers per class, kept in `weights.json` beside this file and
written by `data/judging/train_judge.py`. Training is plain full-batch gradient descent
with L2, deterministic (no random state), so the same data gives the same weights.
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

    def probabilities(self, features: list[float]) -> dict[str, float]:
        x = [(f - m) / s for f, m, s in zip(features, self.mean, self.scale)]
        logits = [row[0] + sum(w * v for w, v in zip(row[1:], x)) for row in self.weights]
        top = max(logits)
        exps = [math.exp(z - top) for z in logits]
        total = sum(exps)
        return {label: e / total for label, e in zip(self.labels, exps)}

    def to_dict(self) -> dict:
        return {"labels": self.labels, "weights": self.weights, "mean": self.mean, "scale": self.scale}


def fit(
    rows: list[list[float]],
    labels: list[str],
    classes: list[str],
    l2: float = 0.01,
    steps: int = 3000,
    rate: float = 0.5,
    class_weight: bool = True,
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
    return Head(list(classes), w.T.round(5).tolist(), mean.round(5).tolist(), scale.round(5).tolist())


def load_heads(path: Path = WEIGHTS_PATH) -> dict[str, Head]:
    data = json.loads(path.read_text())
    return {kind: Head(**spec) for kind, spec in data["heads"].items()}
