"""The Receiver's own words inside a reply: the lexicon's cues of rebuttal, advice,
interpretation, sarcasm and own feeling (`cues_in`, `has_cue`), a new "but" (`new_contrast`),
a question with talk after it (`mid_question`).
"""

from __future__ import annotations

import re

from facilitator.judging import lexicon
from facilitator.judging.text import words

CONTRAST = frozenset("but though although except however yet".split())


def new_contrast(sender_tokens: list[str], r_clauses: list[str]) -> bool:
    """A 'but ...' the Sender never said: the usual start of a defense inside a mirror."""
    if any(w in CONTRAST for w in sender_tokens):
        return False
    return any(c.split()[0] in CONTRAST for c in r_clauses if len(c.split()) >= 3)


_CHECKIN_ONLY = re.compile(r"^\s*(?:" + "|".join(lexicon.CHECK_INS) + r")\s*$")


def mid_question(reply: str) -> bool:
    """A question inside the reply, with talk after it: 'you're tired? i've been up since five'."""
    parts = reply.lower().split("?")
    for after in parts[1:]:
        rest = " ".join(words(after))
        if len(rest.split()) >= 3 and not _CHECKIN_ONLY.match(rest):
            return True
    return False


# Cues that mean sarcasm only when the reply opens with them ("got it, so i'm the bad guy"),
# not inside a clause ("the guy who got it").
START_ONLY = frozenset({"got it"})


def has_cue(padded: str, cue: str) -> bool:
    """`cue` in the space-padded text, starting at a word; ending at one unless it ends in a space."""
    if cue in START_ONLY:
        return padded.startswith(f" {cue} ")
    return (f" {cue}" if cue.endswith(" ") else f" {cue} ") in padded


def cues_in(reply_norm: str, sender_swapped: str, cues: tuple[str, ...]) -> list[str]:
    padded = f" {reply_norm} "
    sender = f" {sender_swapped} "
    return [c for c in cues if has_cue(padded, c) and f" {c}" not in sender]
