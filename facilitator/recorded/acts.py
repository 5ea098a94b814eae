"""What a turn's words say it does, before its place in the dialogue is weighed.

`read_cues(text)` gives a `Cues`: which of the dialogue's moves the words carry (asking for
a dialogue, a mirror's frame, "is there more?", a summary's or validation's or empathy's
stem, an appreciation, a request, a plain yes or no) and how much the turn says of its own.
The phrases are data (prompts/acts.toml), added to what the judges already know: the
mirror's openers and check-ins (`facilitator.judging.lexicon`), the validation phrase
(`facilitator.judging.steps`) and the yes / no answers (prompts/common.toml, read by the
dialogue's `AnswerReader`). `facilitator.recorded.pairing` turns cues and places into acts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from facilitator import prompts as prompt_files
from facilitator.core import words
from facilitator.dialogue import AnswerReader
from facilitator.judging import lexicon
from facilitator.judging.steps import VALIDATION_PHRASE as JUDGE_VALIDATION
from facilitator.judging.text import STOPWORDS

# What a turn does in the dialogue (the record's `act`).
ACTS = ("message", "mirror", "more", "summary", "validation", "empathy", "appreciation",
        "request", "other")
CUE_KINDS = ("appointment", "more", "summary", "validation", "empathy", "appreciation",
             "request", "mirror", "check", "courtesy", "sender_start")

_SENTENCES = re.compile(r"[^.!?]+[.!?]*")


@dataclass(frozen=True)
class Cues:
    """What the words of one turn carry."""

    text: str                  # the words, normalised (lower case, no punctuation)
    found: frozenset[str]      # the CUE_KINDS present
    answer: str                # "yes", "no" or "other" (a plain answer or not)
    content: int               # content words (not stopwords, not fillers)
    first_person: int          # i, me, my ... (the speaker talking of themself)
    second_person: int         # you, your ...
    more_rest: int             # content words left beside "is there more?"

    def has(self, kind: str) -> bool:
        return kind in self.found

    @property
    def frame(self) -> bool:
        """A mirror's (or a summary's) frame: an opener or a closing check-in."""
        return bool(self.found & {"mirror", "check"})

    @property
    def plain_answer(self) -> bool:
        """Only "yes" / "no" / "that's all" (nothing of its own beside it)."""
        return self.answer != "other"


@dataclass(frozen=True)
class CueTable:
    patterns: dict[str, tuple[re.Pattern[str], ...]]
    content_words: int
    more_alone_words: int
    answers: AnswerReader
    answer_words: frozenset[str]       # the words of the yes / no phrases


_FIRST = frozenset("i me my mine myself i'm i've i'd i'll".split())
_SECOND = frozenset("you your yours yourself you're you've you'd you'll".split())


def _judges_openers() -> list[str]:
    """The judges' mirror openers, less the bare fillers ("so", "okay") they also strip."""
    return [p for p in lexicon.OPENERS if not re.fullmatch(p, "so")]


@lru_cache(maxsize=None)
def cue_table() -> CueTable:
    data = prompt_files.load_toml("acts")
    cues = data.get("cues", {})
    patterns: dict[str, list[str]] = {kind: list(cues.get(kind, [])) for kind in CUE_KINDS}
    patterns["mirror"] += [rf"^(?:{p})\b" for p in _judges_openers()]
    patterns["check"] += [rf"\b(?:{p})$" for p in lexicon.CHECK_INS
                          if "more" not in p and not re.fullmatch(p, "right")]
    limits = data.get("limits", {})
    table = prompt_files.common().get("answers", {})
    return CueTable(
        {kind: tuple(re.compile(p) for p in items) for kind, items in patterns.items()},
        int(limits.get("content_words", 4)), int(limits.get("more_alone_words", 3)),
        AnswerReader(table.get("yes", []), table.get("no", [])),
        frozenset(w for phrase in table.get("yes", []) + table.get("no", []) for w in words(phrase)))


def normalise(text: str) -> str:
    return " ".join(words(text))


def _content(tokens: list[str]) -> int:
    return sum(1 for w in tokens if w not in STOPWORDS and w not in ("um", "uh", "hmm", "mm"))


def read_cues(text: str, table: CueTable | None = None) -> Cues:
    table = table or cue_table()
    norm = normalise(text)
    found = {kind for kind, patterns in table.patterns.items()
             if any(p.search(norm) for p in patterns)}
    if JUDGE_VALIDATION.search(norm):
        found.add("validation")
    tokens = norm.split()
    more_rest = _content(tokens)
    if "more" in found:
        rest = norm
        for pattern in table.patterns["more"] + table.patterns["check"]:
            rest = pattern.sub(" ", rest)
        more_rest = _content(rest.split())
    answer = table.answers.read(text)
    beside = _content([w for w in tokens if w not in table.answer_words])
    if answer != "other" and beside >= table.content_words:
        answer = "other"
    return Cues(norm, frozenset(found), answer, _content(tokens),
                sum(w in _FIRST for w in tokens), sum(w in _SECOND for w in tokens), more_rest)


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCES.findall(text) if s.strip()]


def split_validation_empathy(text: str) -> tuple[str, str] | None:
    """A turn that validates and then empathises: (the validation, the empathy), cut at
    the first sentence with an empathy stem after one with a validation phrase; None when
    the turn is not both."""
    parts = sentences(text)
    table = cue_table()
    seen_validation = False
    for index, part in enumerate(parts):
        cues = read_cues(part, table)
        if cues.has("empathy") and seen_validation and index > 0:
            return " ".join(parts[:index]), " ".join(parts[index:])
        seen_validation = seen_validation or cues.has("validation")
    return None


def strip_leading_yes(text: str) -> str:
    """A Sender's "Yes, and also ..." as its message (the live dialogue's rule)."""
    return re.sub(r"^\s*(?:yes|yeah|yep|well)\b[\s,.!]*(?:(?:there is|there's)(?: more)?\b[\s,.!]*)?",
                  "", text, flags=re.IGNORECASE).strip() or text
