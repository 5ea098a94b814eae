"""What the cross-encoder judge reads and says, shared by its training
(data/judging/train_cross.py) and its runtime (cross.py): how a judgement becomes one
text pair, and the order of its outputs. Changing anything here means training again.
"""

from __future__ import annotations

from facilitator.judging.cases import REASONS as _REASON_SET

MAX_TOKENS = 256

# One output per (kind, label); a judgement reads its kind's slice. The passing label first.
LABELS = (
    "mirror:mirror", "mirror:partial", "mirror:not_mirror",
    "summary:complete", "summary:partial", "summary:not_summary",
    "validation:valid", "validation:not_valid",
    "empathy:empathic", "empathy:not_empathic",
    "sender_statement:safe", "sender_statement:blaming",
)
SLICES: dict[str, tuple[int, int]] = {}
for _index, _name in enumerate(LABELS):
    _kind = _name.split(":", 1)[0]
    _low, _ = SLICES.get(_kind, (_index, _index))
    SLICES[_kind] = (_low, _index + 1)



def labels_of(kind: str) -> list[str]:
    """The kind's labels in output order: the passing one first, the worst last."""
    low, high = SLICES[kind]
    return [name.split(":", 1)[1] for name in LABELS[low:high]]


# Why a reply fails ("" first: it does not, or no reason was given).
REASONS = ("",) + tuple(sorted(_REASON_SET))

# The reasons a failing label can have: a partial only leaves something out; the other
# failing labels may have any reason of their kind's group (cases.REASONS).
_LEFT_OUT = ("dropped_point", "dropped_feeling", "narrowed")
_COVERAGE = ("actor", "negation", "added", "defend", "unswapped", "off_topic", "question_back",
             "exaggerated", "reason_changed") + _LEFT_OUT
_STEPS = ("own_logic", "agree_only", "yes_but", "feeling_as_thought", "own_feeling", "question",
          "added", "defend")
_BLAME = ("name_calling", "sarcasm", "threat", "contempt_question", "contempt_feeling",
          "global_blame", "character_attack", "always_never", "mind_reading", "comparison")
REASONS_FOR = {
    "mirror:partial": _LEFT_OUT, "summary:partial": _LEFT_OUT,
    "mirror:not_mirror": _COVERAGE, "summary:not_summary": _COVERAGE,
    "validation:not_valid": _STEPS, "empathy:not_empathic": _STEPS,
    "sender_statement:blaming": _BLAME,
}
assert all(set(r) <= set(REASONS) for r in REASONS_FOR.values())

_KIND_WORDS = {
    "mirror": "mirror of",
    "summary": "summary of",
    "validation": "validation of",
    "empathy": "empathy for",
    "sender_statement": "statement",
}


def pair(kind: str, context: list[str], reply: str) -> tuple[str, str]:
    """(first text, second text): the kind and what the reply answers, then the reply."""
    said = " | ".join(t.strip() for t in context if t.strip())
    return f"{_KIND_WORDS[kind]}: {said}".strip(), reply.strip() or "..."


def configure_tokenizer(tokenizer):
    """No padding (one pair at a time), pairs cut to MAX_TOKENS, longest part first."""
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=MAX_TOKENS, strategy="longest_first")
    return tokenizer
