"""The text end-of-turn model: P(the thought is finished | the words so far, the step).

A multinomial logistic regression over the features of features.py, trained by
data/turn_end/train.py from the repository's own text (whole turns are "finished",
prefixes cut mid-sentence "unfinished", prefixes cut at a sentence boundary of a longer
turn "boundary") and kept in weights.json beside this module. numpy only at run time.

`TextModel.load()` reads the weights once; `scores(text, step)` gives the probability of
each class. A missing or unreadable weights file raises `ThoughtModelMissing`, which names
the file and how to make it again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facilitator.turn_end.features import features

WEIGHTS = Path(__file__).with_name("weights.json")
FORMAT = 1


class ThoughtModelMissing(RuntimeError):
    """The text end-of-turn model's weights are missing or unreadable."""


@dataclass(frozen=True)
class TextScores:
    finished: float      # P(the thought is finished)
    boundary: float      # P(a sentence ended but the turn goes on); 0 for a two-class model
    unfinished: float    # P(mid-sentence)


class TextModel:
    """The trained weights: one row of class weights per feature."""

    def __init__(self, classes: list[str], weights: dict[str, list[float]], info: dict | None = None):
        if "finished" not in classes or "unfinished" not in classes:
            raise ValueError(f"classes {classes} lack 'finished' or 'unfinished'")
        self.classes = list(classes)
        self.index = {name: i for i, name in enumerate(weights)}
        self.matrix = np.asarray(list(weights.values()), dtype=np.float64).reshape(len(weights), len(classes))
        self.info = info or {}

    @classmethod
    def load(cls, path: str | Path = WEIGHTS) -> TextModel:
        path = Path(path)
        fix = "run `.venv/bin/python data/turn_end/train.py` to train it again, or reinstall facilitator"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ThoughtModelMissing(f"the end-of-turn text model {path} is missing; {fix}") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ThoughtModelMissing(f"the end-of-turn text model {path} cannot be read ({error}); {fix}") from None
        try:
            if data.get("format") != FORMAT:
                raise ValueError(f"format {data.get('format')!r}, expected {FORMAT}")
            return cls(data["classes"], data["weights"], data.get("info"))
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            raise ThoughtModelMissing(f"the end-of-turn text model {path} is corrupt ({error}); {fix}") from None

    def logits(self, feats: list[str]) -> np.ndarray:
        rows = [self.index[f] for f in feats if f in self.index]
        return self.matrix[rows].sum(axis=0) if rows else np.zeros(len(self.classes))

    def probabilities(self, feats: list[str]) -> np.ndarray:
        z = self.logits(feats)
        z = z - z.max()
        e = np.exp(z)
        return e / e.sum()

    def scores(self, text: str, step: str | None) -> TextScores:
        p = self.probabilities(features(text, step))
        get = {name: float(p[i]) for i, name in enumerate(self.classes)}
        return TextScores(get["finished"], get.get("boundary", 0.0), get["unfinished"])

    def p_finished(self, text: str, step: str | None) -> float:
        return self.scores(text, step).finished
