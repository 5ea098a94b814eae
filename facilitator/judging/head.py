"""Tiny learned heads over structured features: logistic regression, boosted trees, a blend.

`Head` is multinomial logistic regression (a few numbers per class); `Trees` is a small
gradient-boosted ensemble of depth-2 trees (a few hundred thresholds), which can say
"covers everything AND flips a negation" where a linear head can only add the two up;
`Blend` averages the two.
Both are kept in `weights.json` beside this file, written by `data/judging/train_judge.py`
(the fitting lives there, in `data/judging/fit_head.py`, not in the installed package).
This module only reads the weights and scores: plain Python, no numpy.
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


def head_from_dict(spec: dict) -> Head | Trees | Blend:
    if spec.get("kind") == "blend":
        return Blend([head_from_dict(p) for p in spec["parts"]], spec["share"], spec.get("features"))
    return Trees(**spec) if spec.get("kind") == "trees" else Head(**spec)


def heads_from_model(model: dict) -> dict[str, Head | Trees | Blend]:
    """The heads of a weights.json document (or of `train_judge.train`'s result)."""
    return {kind: head_from_dict(spec) for kind, spec in model["heads"].items()}


def load_heads(path: Path = WEIGHTS_PATH) -> dict[str, Head | Trees | Blend]:
    return heads_from_model(json.loads(path.read_text()))
