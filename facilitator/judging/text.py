"""Small text tools shared by the judges: normalising, person swap, content words."""

from __future__ import annotations

import re

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
    because as while just""".split()
)

_WORD = re.compile(r"[a-z0-9']+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("’", "'"))


def swap_person(text: str) -> str:
    return " ".join(PERSON_SWAP.get(w, w) for w in words(text))


def stem(word: str) -> str:
    """A light stemmer: enough to match 'calls' with 'called' and 'feeling' with 'feel'."""
    for suffix in ("ingly", "edly", "ing", "ed", "es", "s", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> list[str]:
    return [w for w in words(text) if w not in STOPWORDS]


def content_stems(text: str) -> set[str]:
    return {stem(w) for w in content_words(text)}


def normalize(text: str) -> str:
    return " ".join(words(text))
