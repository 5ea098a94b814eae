"""What the cross-encoder judge reads and says, shared by its training
(data/judging/train_cross.py) and its runtime (cross.py): how a judgement becomes one
text pair, and the order of its outputs. Changing anything here means training again.
"""

from __future__ import annotations

import re

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


_END = re.compile(r"[\s.,!?;:]+$")


def as_said(text: str) -> str:
    """A turn as Whisper writes one: ending on exactly one full stop ("" stays ""). Typed text
    often has none, and the model had learned to read the missing stop as a sign of a wrong
    mirror (a typed paraphrase was "not a mirror", the same words heard were a mirror)."""
    text = _END.sub("", text.strip())
    return text + "." if text else ""


def pair(kind: str, context: list[str], reply: str, ends: bool = True) -> tuple[str, str]:
    """(first text, second text): the kind and what the reply answers, then the reply, each
    turn ending as Whisper ends it (`as_said`; `ends=False`: as given, as the shipped model
    was trained: data/judging/train_cross.py --as-given)."""
    end = as_said if ends else str.strip
    said = " | ".join(end(t) for t in context if t.strip())
    return f"{_KIND_WORDS[kind]}: {said}".strip(), end(reply) or "..."


def configure_tokenizer(tokenizer):
    """No padding (one pair at a time), pairs cut to MAX_TOKENS, longest part first."""
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=MAX_TOKENS, strategy="longest_first")
    return tokenizer
