"""The default judge: structured analysis plus a small learned head per kind.

Mirror and summary go through `structure.analyse` (units, alignment, roles, negation,
intrusions; with the paraphrase model also meaning-level alignment per unit, see
`semantic.py`) and a small head trained by `data/judging/train_judge.py`; validation,
empathy and Sender statements go through the rule checks in `steps` (validation also
accepts a reason the Sender gave, said in other words, when the model is there).

weights.json holds two heads per kind: `mirror` (boosted trees blended with logistic
regression, over all features, used when the paraphrase model loads) and `mirror_lexical`
(logistic regression over the word-level features only, used when it cannot be loaded,
e.g. its package is missing).
A head whose feature list does not match this code is not used.
"""

from __future__ import annotations

from facilitator.judging import KINDS, Verdict
from facilitator.judging.explain import explain
from facilitator.judging.head import WEIGHTS_PATH, Blend, Head, Trees, load_heads
from facilitator.judging.steps import judge_empathy, judge_sender_statement, judge_validation
from facilitator.judging.structure import FEATURE_NAMES, SEMANTIC_FEATURE_NAMES, analyse

PASS_LABEL = {"mirror": "mirror", "summary": "complete"}
AUTO = "auto"


class StructuredJudge:
    """Judges every step; loads its weights and the paraphrase model once, in the constructor.

    `embedder`: "auto" loads the shared paraphrase model when it is installed (else the
    word-level heads are used, with a notice on stderr); None forces word-level judging.
    """

    def __init__(self, heads: dict[str, Head | Trees | Blend] | None = None, embedder=AUTO):
        self.heads = heads if heads is not None else (load_heads() if WEIGHTS_PATH.exists() else {})
        if embedder == AUTO:
            embedder = None
            if any(_is_semantic(h) for h in self.heads.values()):
                from facilitator.judging.embed import get_embedder

                embedder = get_embedder()
        self.embedder = embedder

    @property
    def semantic(self) -> bool:
        """True when judging with the paraphrase model."""
        return self.embedder is not None

    def _head(self, kind: str) -> Head | Trees | Blend | None:
        head = self.heads.get(kind)
        if self.embedder is not None and _is_semantic(head) and head.features == _ALL:
            return head
        for name in (f"{kind}_lexical", kind):
            head = self.heads.get(name)
            if head is not None and not _is_semantic(head) and (head.features or _WORDS) == _WORDS:
                return head
        return None

    def judge(self, kind: str, context: list[str], reply: str) -> Verdict:
        if kind not in KINDS:
            raise ValueError(f"unknown judgement kind: {kind!r}")
        if kind in ("mirror", "summary"):
            return self._coverage(kind, context, reply)
        if kind == "validation":
            return judge_validation(context, reply, self.embedder)
        if kind == "empathy":
            return judge_empathy(context, reply)
        return judge_sender_statement(reply)

    def _coverage(self, kind: str, context: list[str], reply: str) -> Verdict:
        sender = " . ".join(t.strip().rstrip(".") for t in context)
        head = self._head(kind)
        found = analyse(sender, reply, self.embedder if _is_semantic(head) else None)
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
        reason, detail = ("", {}) if passing else explain(kind, context, reply)
        return Verdict(kind, label, round(float(score), 3), missing, intrusions, reason, detail)


_WORDS = list(FEATURE_NAMES)
_ALL = list(FEATURE_NAMES) + list(SEMANTIC_FEATURE_NAMES)


def _is_semantic(head: Head | Trees | Blend | None) -> bool:
    return bool(head is not None and head.features and SEMANTIC_FEATURE_NAMES[0] in head.features)


def _overrule(kind: str, label: str, found) -> str:
    """A missed feeling is never a full pass, whatever the head says: it is the heart of it."""
    f = dict(zip(FEATURE_NAMES, found.features))
    if (label == PASS_LABEL[kind] and f["sender_has_feeling"] and f["feeling_cov"] == 0
            and not found.reply_names_feeling):
        return "partial"
    return label


def _fallback(kind: str, features: list[float]) -> tuple[str, float]:
    """Thresholds used only if weights.json is missing (before the first training)."""
    f = dict(zip(FEATURE_NAMES, features))
    coverage = f["cov_mean"]
    bad = f["any_intrusion"] > 0 or f["role_flip"] > 0.3 or f["valence_flip"] > 0
    if bad:
        return ("not_mirror" if kind == "mirror" else "not_summary"), 0.0
    if coverage >= 0.7:
        return PASS_LABEL[kind], coverage
    if coverage >= 0.3:
        return "partial", coverage
    return ("not_mirror" if kind == "mirror" else "not_summary"), coverage
