"""Negation and opposites: a word the reply shares with the Sender but says the other way
round (`polarity_flips`), an opposite word ('full time' for 'part time', `opposites`), a
feeling of the opposite kind (`valence_flip`).
"""

from __future__ import annotations

from facilitator.judging import lexicon
from facilitator.judging.roles import valences
from facilitator.judging.text import CLAUSE_STARTERS, NEGATORS, STOPWORDS, clauses, stem
from facilitator.judging.units import canon


def _polarity(text: str) -> dict[str, set[bool]]:
    """Each content word (folded) -> whether it is said negated, plain, or both.

    A negator ('not', "don't", 'never', 'without') covers the first content word within
    the next three words of its clause: "you don't want them to be scared" negates 'want';
    "i'm not saying no, i just need time" does not negate 'need'.
    """
    out: dict[str, set[bool]] = {}
    for clause in clauses(text, min_words=1):
        _polarity_of(clause.split(), out)
    return out


def _polarity_of(tokens: list[str], out: dict[str, set[bool]]) -> None:
    scope = 0
    for w in tokens:
        if w in NEGATORS or w.endswith("n't"):
            scope = 3
            continue
        if w in CLAUSE_STARTERS:
            scope = 0
        if w not in STOPWORDS:
            key = canon(w)
            out.setdefault(key[:-1] if len(key) > 3 and key.endswith("e") else key, set()).add(scope > 0)
            scope = 0
        scope = max(0, scope - 1)


def _negated_stems(tokens: list[str]) -> set[str]:
    return {stem(w) for i, w in enumerate(tokens)
            if any(b in NEGATORS or b.endswith("n't") for b in tokens[max(0, i - 2) : i])}


def opposites(sender_tokens: list[str], body_tokens: list[str]) -> list[str]:
    """Reply words whose opposite the Sender said instead ('full time' for 'part time').

    Not when either side is negated: 'not safe' for 'unsafe' is the same thing.
    """
    s = {stem(w) for w in sender_tokens}
    r = {stem(w) for w in body_tokens}
    s_neg, r_neg = _negated_stems(sender_tokens), _negated_stems(body_tokens)
    return sorted(w for w in r - s - r_neg
                  if any(o in s and o not in r and o not in s_neg for o in lexicon.OPPOSITES.get(w, ())))


def polarity_flips(sender: str, body: str) -> int:
    """Words the reply shares with the Sender but says with the opposite negation."""
    s, r = _polarity(sender), _polarity(body)
    return sum(1 for w, pol in r.items() if w in s and len(pol) == 1 and len(s[w]) == 1 and pol != s[w])


def valence_flip(sender_tokens: list[str], body_tokens: list[str]) -> bool:
    """The reply gives the Sender a feeling of the opposite kind ('left out' -> 'included')."""
    sender = {v for o, v in valences(sender_tokens, True) if o != "R"}
    if len(sender) != 1:
        return False
    theirs = {v for o, v in valences(body_tokens, False) if o != "R"}
    return bool(theirs) and sender.isdisjoint(theirs)
