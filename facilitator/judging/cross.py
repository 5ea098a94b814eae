"""The cross-encoder judge: one small encoder reads what the Sender said and the reply
together, so it hears who did what, what is said the other way round, and meaning said in
other words (trained by data/judging/train_cross.py; runs on onnxruntime, int8 weights in
cross_model/). Its verdict names a reason when a reply fails; what exactly to coach (the
missed part, the added words, the words heard as blame) comes from the rule checks. Two
of those overrule it: who did what turned round (actors.py), and a partial that says a
word or a feeling the other way round (`distorted`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

from facilitator.judging import KINDS, Verdict
from facilitator.judging.actors import turned_round
from facilitator.judging.cross_format import (REASONS, REASONS_FOR, SLICES, configure_tokenizer,
                                              labels_of, pair)

MODEL_DIR = Path(__file__).resolve().parent / "cross_model"


class CrossJudgeMissing(RuntimeError):
    """The model files are not there (or cannot be read)."""


def model_present(folder: Path = MODEL_DIR) -> bool:
    return (folder / "judge.onnx").is_file() and (folder / "tokenizer.json").is_file()


class CrossJudge:
    """Judges every kind with the cross-encoder; loads it once, in the constructor."""

    def __init__(self, folder: Path = MODEL_DIR, threads: int = 1):
        from tokenizers import Tokenizer

        from facilitator.onnx_runtime import inference_session

        if not model_present(folder):
            raise CrossJudgeMissing(f"the judge's model is missing from {folder}")
        try:
            self.tokenizer = configure_tokenizer(Tokenizer.from_file(str(folder / "tokenizer.json")))
            self.session = inference_session(folder / "judge.onnx", threads)
        except Exception as error:  # a corrupt or truncated file
            raise CrossJudgeMissing(f"the judge's model in {folder} cannot be read ({error})") from error
        self.semantic = True

    def scores(self, kind: str, context: list[str], reply: str) -> tuple[dict[str, float], np.ndarray]:
        """({label: probability} for the kind, the reason head's logits)."""
        encoding = self.tokenizer.encode(*pair(kind, context, reply))
        feed = {"input_ids": np.array([encoding.ids], np.int64),
                "attention_mask": np.ones((1, len(encoding.ids)), np.int64),
                "token_type_ids": np.array([encoding.type_ids], np.int64)}
        label_logits, reason_logits = self.session.run(None, feed)
        low, high = SLICES[kind]
        logits = label_logits[0, low:high].astype(np.float64)
        probs = np.exp(logits - logits.max())
        probs /= probs.sum()
        return dict(zip(labels_of(kind), probs.tolist())), reason_logits[0]

    def judge(self, kind: str, context: list[str], reply: str) -> Verdict:
        if kind not in KINDS:
            raise ValueError(f"unknown judgement kind: {kind!r}")
        probs, reason_logits = self.scores(kind, context, reply)
        label = max(probs, key=probs.get)
        passing, worst = labels_of(kind)[0], labels_of(kind)[-1]
        reason = ""
        if kind in ("mirror", "summary") and label != worst and turned_round(context, reply):
            label, reason = worst, "actor"
        elif kind in ("mirror", "summary") and label == "partial":
            reason = distorted(context, reply)
            if reason:
                label = worst
        verdict = Verdict(kind, label, round(probs[passing], 3))
        if label != passing:
            _coach(verdict, context, reply, reason or _likeliest(reason_logits, f"{kind}:{label}"))
        return verdict


# A partial that also says something the other way round is not a mirror: the structure
# reading's flags (structure.FEATURE_NAMES) and the reason each stands for.
DISTORTIONS = (("opposite", "negation"), ("valence_flip", "negation"))


def distorted(context: list[str], reply: str) -> str:
    """The reason a reply the model read as leaving something out also changes what was
    said: an opposite word ("full time" for "part time") or a feeling of the opposite kind
    ("" when none). (The analysis's negation and who-did-what flags are not used: on our
    held-out they fired on faithful paraphrases as often as on distortions.)"""
    from facilitator.judging.structure import FEATURE_NAMES

    found = dict(zip(FEATURE_NAMES, _analysis(tuple(context), reply).features))
    return next((reason for flag, reason in DISTORTIONS if found[flag] > 0), "")


@lru_cache(maxsize=4)
def _analysis(context: tuple[str, ...], reply: str):
    """The structural analysis of a reply against the Sender's turns (one per judgement:
    `distorted` and the coaching share it)."""
    from facilitator.judging.structure import analyse

    return analyse(" . ".join(t.strip().rstrip(".") for t in context), reply)


def _likeliest(reason_logits: np.ndarray, label: str) -> str:
    """The reason head's likeliest reason among those this label can have."""
    allowed = REASONS_FOR.get(label, REASONS[1:])
    return max(allowed, key=lambda r: reason_logits[REASONS.index(r)])


def _coach(verdict: Verdict, context: list[str], reply: str, reason: str) -> None:
    """What to coach on a failing verdict, from the rule checks of its kind."""
    from facilitator.judging.steps import judge_empathy, judge_sender_statement, judge_validation

    kind = verdict.kind
    if kind in ("mirror", "summary"):
        found = _analysis(tuple(context), reply)
        verdict.missing, verdict.intrusions = list(found.missing), list(found.intrusions)
    elif kind == "validation":
        verdict.intrusions = judge_validation(context, reply).intrusions
    elif kind == "empathy":
        verdict.intrusions = judge_empathy(context, reply).intrusions
    else:
        verdict.intrusions = judge_sender_statement(reply).intrusions
    if kind in ("mirror", "summary"):
        from facilitator.judging.explain import explain

        verdict.reason, verdict.detail = explain(kind, context, reply, reason)
    else:
        verdict.reason = reason
