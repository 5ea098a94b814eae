"""Small text tools shared by the judges: normalising, person swap, content words, clauses.

Everything here works on transcribed speech: lower case, little punctuation, fillers,
false starts and speech-recognition slips ("your" for "you're", "to" for "two").
"""

from __future__ import annotations

import re

from facilitator.core import HESITATIONS, words  # noqa: F401 (words: the one tokeniser, re-exported)

PERSON_SWAP = {
    "i": "you", "me": "you", "my": "your", "mine": "yours", "myself": "yourself",
    "you": "i", "your": "my", "yours": "mine", "yourself": "myself",
    "i'm": "you're", "you're": "i'm", "i've": "you've", "you've": "i've",
    "i'd": "you'd", "you'd": "i'd", "i'll": "you'll", "you'll": "i'll",
    "am": "are", "we": "we", "us": "us", "our": "our",
}

STOPWORDS = frozenset(
    """a an the and or but so if then than that this these those there here it its it's
    is are was were be been being am do does did doing done have has had having
    i me my mine myself you your yours yourself we us our he him his she her they them
    their what which who whom whose when where why how to of in on at by for with about
    from into over under again very just really also too not no yes can could would should
    will shall may might must get got getting gets let lets like say saying said says
    hear hearing heard mean means think thought know okay ok well um uh oh hmm mm
    all any some more most much many one ones thing things way ve ll re d s t m
    i'm you're i've you've i'd you'd i'll you'll don't didn't doesn't isn't wasn't
    because as while just even kind sort honestly literally actually stuff gonna wanna
    cause since make makes made feel feels felt feeling feelings""".split()
)

FILLERS = HESITATIONS

NEGATORS = frozenset(
    """not no never nothing nobody none nowhere neither nor don't didn't doesn't isn't
    wasn't aren't weren't won't wouldn't can't couldn't shouldn't haven't hasn't hadn't
    ain't cannot without""".split()
)

# Words that start a new clause in speech without punctuation.
CLAUSE_STARTERS = frozenset(
    """and but because cause cuz since though although while whereas when
    whenever unless""".split()
)

_SENTENCE = re.compile(r"[.!?;:,]+|\s-\s|\.\.\.")


def swap_person(text: str) -> str:
    """Say it from the other partner's side: I <-> you, my <-> your."""
    return " ".join(PERSON_SWAP.get(w, w) for w in words(text))


def stem(word: str) -> str:
    """A light stemmer: enough to match 'calls' with 'called' and 'feeling' with 'feel'."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("ied") and len(word) > 4:
        return word[:-3] + "y"
    for suffix in ("ingly", "edly", "ing", "ed", "es", "s", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)]
            if len(base) > 3 and base[-1] == base[-2] and base[-1] not in "ls":
                base = base[:-1]  # stopped -> stopp -> stop
            return base
    return word


def content_words(text: str) -> list[str]:
    return [w for w in words(text) if w not in STOPWORDS]


def content_stems(text: str) -> set[str]:
    return {stem(w) for w in content_words(text)}


def normalize(text: str) -> str:
    return " ".join(words(text))


def drop_fillers(tokens: list[str]) -> list[str]:
    """Remove 'um', 'uh' and stutters ('you you felt' -> 'you felt')."""
    out: list[str] = []
    for w in tokens:
        if w in FILLERS:
            continue
        if out and out[-1] == w and w in {"i", "you", "the", "a", "and", "so", "i'm", "we"}:
            continue
        out.append(w)
    return out


def clauses(text: str, min_words: int = 3) -> list[str]:
    """Split a turn into short clauses at punctuation and spoken clause starters.

    Pieces with fewer than `min_words` words are glued to their neighbour, so that
    'and i laughed' stays a clause but 'and' alone does not.
    """
    pieces: list[list[str]] = []
    for sentence in _SENTENCE.split(text.lower().replace("’", "'")):
        current: list[str] = []
        for w in drop_fillers(words(sentence)):
            if w in CLAUSE_STARTERS and current and current[-1] not in CLAUSE_STARTERS:
                pieces.append(current)
                current = []
            current.append(w)
        if current:
            pieces.append(current)
    merged: list[list[str]] = []
    for piece in pieces:
        if merged and (len(piece) < min_words or len(merged[-1]) < min_words):
            merged[-1] = merged[-1] + piece
        else:
            merged.append(piece)
    return [" ".join(p) for p in merged if p]
