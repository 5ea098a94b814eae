"""A Sender's turn and a reply as the judges compare them: words folded to their stem and
synonym group (`canon`), the reply without its mirror frame (`strip_frame`), and the Sender's
turn cut into units, one clause or feeling each (`sender_units`, `split_feeling`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from facilitator.judging import lexicon
from facilitator.judging.text import STOPWORDS, clauses, drop_fillers, stem, words

_OPENER_RE = re.compile(r"^(?:" + "|".join(lexicon.OPENERS) + r")\b\s*")
_CHECKIN_RE = re.compile(r"\s*\b(?:" + "|".join(lexicon.CHECK_INS) + r")\s*$")


def canon(word: str) -> str:
    """A word folded to its stem and then to its synonym group."""
    s = stem(word)
    return lexicon.CANON.get(s, s)


def _fold_phrases(text: str) -> str:
    for phrase, word in lexicon.PHRASES.items():
        if phrase in text:
            text = re.sub(rf"\b{re.escape(phrase)}\b", word, text)
    return text


def strip_frame(reply: str) -> tuple[str, bool, bool]:
    """The reply without its mirror opener and closing check-in (and whether each was there)."""
    text = " ".join(drop_fillers(words(reply)))
    opener = False
    for _ in range(6):
        new = _OPENER_RE.sub("", text, count=1)
        if new == text:
            break
        if len(new) < len(text) - 3 or new.split()[:1] != text.split()[:1]:
            opener = opener or len(text) - len(new) > 6
        text = new
    checkin = False
    for _ in range(2):
        new = _CHECKIN_RE.sub("", text)
        if new != text:
            checkin = True
            text = new
    return text.strip(), opener, checkin


def content_of(text: str) -> list[str]:
    return [canon(w) for w in words(_fold_phrases(text)) if w not in STOPWORDS]


def matches(a: str, pool: set[str]) -> bool:
    if a in pool:
        return True
    if len(a) >= 5:
        return any(len(b) >= 5 and (a[:5] == b[:5]) for b in pool)
    return False


@dataclass
class Unit:
    text: str
    content: list[str]
    coverage: float = 0.0


_FEEL_VERBS = frozenset("feel feels felt feeling get got am was were are 'm".split())
_CAUSE_VERBS = frozenset("makes made leaves left".split())


def split_feeling(clause: str) -> list[str]:
    """Split a clause where a feeling starts: 'when you forgot our anniversary | i felt hurt'.

    Speech runs a trigger and the feeling into one clause with no 'and'; the feeling is a
    unit of its own for a facilitator. Cuts before 'i/you feel', 'i'm/you're <feeling>',
    'it makes/leaves me/you', '<trigger> makes you feel', when both sides keep three words
    or more.
    """
    tokens = clause.split()
    cuts = []
    for i in range(3, len(tokens) - 1):
        w, nxt = tokens[i], tokens[i + 1]
        after = tokens[i + 1 : i + 4]
        start = (
            (w in ("i", "you") and nxt in _FEEL_VERBS and (nxt.startswith("fe") or any(
                stem(a) in lexicon.FEELING_STEMS for a in after[1:])))
            or (w in ("i'm", "you're") and any(stem(a) in lexicon.FEELING_STEMS for a in after[:2]))
            or (w in ("it", "that", "which") and nxt in _CAUSE_VERBS and after[1:2] and after[1] in ("me", "you"))
            or (w in _CAUSE_VERBS and nxt in ("me", "you") and after[1:2] and after[1].startswith("feel")
                and tokens[i - 1] not in ("it", "that", "which"))
        )
        if start and i - (cuts[-1] if cuts else 0) >= 3 and len(tokens) - i >= 2:
            cuts.append(i)
    if not cuts:
        return [clause]
    bounds = [0, *cuts, len(tokens)]
    return [" ".join(tokens[a:b]) for a, b in zip(bounds, bounds[1:])]


@lru_cache(maxsize=256)
def sender_units(sender: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The Sender's turn as (clause, content words) units; cached, as retries share it."""
    units = []
    pieces = [(piece, k > 0) for c in clauses(sender) for k, piece in enumerate(split_feeling(c))]
    for clause, feeling in pieces:
        text, _, _ = strip_frame(clause) if clause.startswith(("ok", "so", "um")) else (clause, 0, 0)
        content = content_of(text)
        if not content:
            continue
        if units and len(content) < 2 and not feeling:
            prev_text, prev_content = units[-1]
            units[-1] = (f"{prev_text} {text}", prev_content + tuple(content))
        else:
            units.append((text, tuple(content)))
    return tuple(units)
