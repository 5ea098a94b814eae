"""The default judge: structured analysis plus a small learned head per kind.

Mirror and summary go through `structure.analyse` (units, alignment, roles, negation,
intrusions) and a logistic head trained by `data/judging/train_judge.py`; validation,
empathy and Sender statements go through the rule checks in `steps`.
"""

from __future__ import annotations

from facilitator.judging import KINDS, Verdict
from facilitator.judging.head import WEIGHTS_PATH, Head, load_heads
from facilitator.judging.steps import judge_empathy, judge_sender_statement, judge_validation
from facilitator.judging.structure import FEATURE_NAMES, analyse

PASS_LABEL = {"mirror": "mirror", "summary": "complete"}


class StructuredJudge:
    """Judges every step; loads its few weights once, in the constructor."""

    def __init__(self, heads: dict[str, Head] | None = None):
        self.heads = heads if heads is not None else (load_heads() if WEIGHTS_PATH.exists() else {})

    def judge(self, kind: str, context: list[str], reply: str) -> Verdict:
        if kind not in KINDS:
            raise ValueError(f"unknown judgement kind: {kind!r}")
        if kind in ("mirror", "summary"):
            return self._coverage(kind, context, reply)
        if kind == "validation":
            return judge_validation(context, reply)
        if kind == "empathy":
            return judge_empathy(context, reply)
        return judge_sender_statement(reply)

    def _coverage(self, kind: str, context: list[str], reply: str) -> Verdict:
        sender = " . ".join(t.strip().rstrip(".") for t in context)
        found = analyse(sender, reply)
        head = self.heads.get(kind)
        if head is None:
            label, score = _fallback(kind, found.features)
        else:
            probs = head.probabilities(found.features)
            label = max(probs, key=probs.get)
            score = probs[PASS_LABEL[kind]]
        label = _overrule(kind, label, found)
        passing = label == PASS_LABEL[kind]
        missing = [] if passing else found.missing
        intrusions = [] if passing and score > 0.8 else found.intrusions
        return Verdict(kind, label, round(float(score), 3), missing, intrusions)


def _overrule(kind: str, label: str, found) -> str:
    """A missed feeling is never a full pass, whatever the head says: it is the heart of it."""
    f = dict(zip(FEATURE_NAMES, found.features))
    if (label == PASS_LABEL[kind] and f["sender_has_feeling"] and f["feeling_cov"] == 0
            and not found.reply_names_feeling):
        return "partial"
    return label


def _fallback(kind: str, features: list[float]) -> tuple[str, float]:
    """Thresholds used only if weights.json is missing (before the first training)."""
    coverage = features[0]
    bad = features[-1] > 0 or features[14] > 0.3
    if bad:
        return ("not_mirror" if kind == "mirror" else "not_summary"), 0.0
    if coverage >= 0.7:
        return PASS_LABEL[kind], coverage
    if coverage >= 0.3:
        return "partial", coverage
    return ("not_mirror" if kind == "mirror" else "not_summary"), coverage
