"""Structure of a reply against what the Sender said: units, alignment, roles, negation.

`analyse(sender, reply)` splits the Sender's turn into units (clauses: trigger, feeling,
reason, request), checks which of them the reply brings back, who does what in each
(I <-> you roles), whether a negation flipped, and which of the reply's clauses do not
come from the Sender at all (rebuttal, advice, interpretation, a new topic). The result
is a handful of numbers (`Analysis.features`) for a small learned head, plus the words
a coach needs: what was missed and what intruded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from facilitator.judging import lexicon
from facilitator.judging.text import (
    NEGATORS,
    STOPWORDS,
    clauses,
    drop_fillers,
    stem,
    words,
)

SELF = frozenset("i me my mine myself i'm i've i'd i'll".split())
OTHER = frozenset("you your yours yourself you're you've you'd you'll ya".split())
# Words skipped when looking for the verb or word that follows a pronoun.
_ROLE_SKIP = frozenset(
    """really just still always never not do did does don't didn't doesn't will would
    am are was were is be been have has had so kind of sort even also only then ever
    can can't could couldn't won't wouldn't should shouldn't gonna wanna to""".split()
)

_OPENER_RE = re.compile(r"^(?:" + "|".join(lexicon.OPENERS) + r")\b\s*")
_CHECKIN_RE = re.compile(r"\s*\b(?:" + "|".join(lexicon.CHECK_INS) + r")\s*$")

FEATURE_NAMES = (
    "cov_mean", "cov_min", "units_covered", "feeling_cov", "sender_has_feeling",
    "unaligned_frac", "unaligned_n", "novel_frac", "rebuttal", "advice",
    "interpretation", "sarcasm", "own_feeling", "role_agree", "role_flip",
    "neg_mismatch", "len_ratio", "short_reply", "any_intrusion",
)


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


def _content(text: str) -> list[str]:
    return [canon(w) for w in words(_fold_phrases(text)) if w not in STOPWORDS]


def _match(a: str, pool: set[str]) -> bool:
    if a in pool:
        return True
    if len(a) >= 5:
        return any(len(b) >= 5 and (a[:5] == b[:5]) for b in pool)
    return False


def _roles(tokens: list[str], speaker_is_sender: bool) -> set[tuple[str, str]]:
    """(who, next word) pairs: 'i roll over' said by the Sender -> ('S', 'roll')."""
    pairs = set()
    for i, w in enumerate(tokens):
        if w in SELF:
            who = "S" if speaker_is_sender else "R"
        elif w in OTHER:
            who = "R" if speaker_is_sender else "S"
        else:
            continue
        for nxt in tokens[i + 1 : i + 4]:
            if nxt in SELF or nxt in OTHER:
                break
            if nxt in _ROLE_SKIP:
                continue
            pairs.add((who, canon(nxt)))
            break
    return pairs


def _feelings_by_owner(tokens: list[str], speaker_is_sender: bool) -> list[tuple[str, str]]:
    """(owner, feeling) for each feeling word, owner from the nearest pronoun before it."""
    out = []
    for i, w in enumerate(tokens):
        s = stem(w)
        if s not in lexicon.FEELING_STEMS and w not in lexicon.FEELINGS:
            continue
        owner = out[-1][0] if out else "?"
        for prev in reversed(tokens[max(0, i - 5) : i]):
            if prev in SELF:
                owner = "S" if speaker_is_sender else "R"
                break
            if prev in OTHER:
                owner = "R" if speaker_is_sender else "S"
                break
        out.append((owner, canon(w)))
    return out


def _negated(text: str) -> bool:
    return sum(1 for w in words(text) if w in NEGATORS or w.endswith("n't")) % 2 == 1


def _cue(reply_norm: str, sender_swapped: str, cues: tuple[str, ...]) -> list[str]:
    padded = f" {reply_norm} "
    return [c for c in cues if f" {c}" in padded and f" {c}" not in f" {sender_swapped} "]


@dataclass
class Unit:
    text: str
    content: list[str]
    coverage: float = 0.0


@dataclass
class Analysis:
    features: list[float]
    units: list[Unit]
    missing: list[str]
    intrusions: list[str]
    cues: dict[str, list[str]] = field(default_factory=dict)
    reply_names_feeling: bool = False


@lru_cache(maxsize=256)
def sender_units(sender: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The Sender's turn as (clause, content words) units; cached, as retries share it."""
    units = []
    for clause in clauses(sender):
        text, _, _ = strip_frame(clause) if clause.startswith(("ok", "so", "um")) else (clause, 0, 0)
        content = _content(text)
        if not content:
            continue
        if units and len(content) < 2:
            prev_text, prev_content = units[-1]
            units[-1] = (f"{prev_text} {text}", prev_content + tuple(content))
        else:
            units.append((text, tuple(content)))
    return tuple(units)


def analyse(sender: str, reply: str) -> Analysis:
    """Compare a reply with the Sender's turn; see the module docstring."""
    body, opener, checkin = strip_frame(reply)
    body_tokens = words(body)
    reply_pool = set(_content(body))
    units = [Unit(t, list(c)) for t, c in sender_units(sender)]
    sender_pool = {w for u in units for w in u.content}
    sender_tokens = drop_fillers(words(sender))
    sender_swapped = " ".join(lexicon_swap(sender_tokens))

    for u in units:
        uniq = set(u.content)
        u.coverage = sum(1 for w in uniq if _match(w, reply_pool)) / len(uniq)
    sizes = [len(set(u.content)) for u in units] or [1]
    covs = [u.coverage for u in units] or [0.0]
    cov_mean = sum(c * s for c, s in zip(covs, sizes)) / sum(sizes)

    # Feelings: which of the Sender's the reply names, and whose they are in the reply.
    s_feel = {f for o, f in _feelings_by_owner(sender_tokens, True) if o != "R"}
    r_feel = _feelings_by_owner(body_tokens, False)
    feeling_cov = (
        sum(1 for f in s_feel if any(_match(f, {g}) for _, g in r_feel)) / len(s_feel)
        if s_feel else 1.0
    )
    wrong_owner = [f for o, f in r_feel if o == "R" and f in s_feel or o == "R" and not s_feel]

    # Roles: who does what, read straight and read with the person swap.
    s_roles = _roles(sender_tokens, True)
    r_roles = _roles(body_tokens, False)
    r_roles_unswapped = _roles(body_tokens, True)
    agree = s_roles & r_roles
    flip = (s_roles & r_roles_unswapped) - agree
    n_roles = max(1, len(s_roles))

    # The reply's clauses: aligned to a Sender unit, or something of the Receiver's own.
    r_clauses = [c for c in clauses(body) if _content(c)]
    unaligned: list[str] = []
    neg_mismatch = 0
    novel = 0
    total = 0
    for c in r_clauses:
        cc = set(_content(c))
        hits = sum(1 for w in cc if _match(w, sender_pool))
        total += len(cc)
        novel += len(cc) - hits
        share = hits / len(cc)
        if share < 0.34 and len(cc) >= 2:
            unaligned.append(c)
            continue
        best, best_overlap = None, 0.0
        for u in units:
            ov = len(cc & set(u.content)) / max(1, len(set(u.content)))
            if ov > best_overlap:
                best, best_overlap = u, ov
        if best is not None and best_overlap >= 0.5 and _negated(c) != _negated(best.text):
            neg_mismatch += 1

    norm = " ".join(body_tokens)
    cues = {
        "rebuttal": _cue(norm, sender_swapped, lexicon.REBUTTAL),
        "advice": _cue(norm, sender_swapped, lexicon.ADVICE),
        "interpretation": _cue(norm, sender_swapped, lexicon.INTERPRETATION),
        "sarcasm": _cue(norm, sender_swapped, lexicon.SARCASM),
        "own_feeling": _cue(norm, sender_swapped, lexicon.OWN_FEELING),
    }
    intrusions = list(unaligned)
    for c in r_clauses:
        padded = f" {c} "
        if c not in intrusions and any(
            f" {cue}" in padded for kind in ("rebuttal", "advice", "interpretation", "sarcasm")
            for cue in cues[kind]
        ):
            intrusions.append(c)

    n_sender = max(1, len(sender_pool))
    features = [
        cov_mean,
        min(covs),
        sum(1 for c in covs if c >= 0.5) / len(covs),
        feeling_cov,
        1.0 if s_feel else 0.0,
        len(unaligned) / max(1, len(r_clauses)),
        min(len(unaligned), 3) / 3,
        novel / max(1, total),
        1.0 if cues["rebuttal"] else 0.0,
        1.0 if cues["advice"] else 0.0,
        1.0 if cues["interpretation"] else 0.0,
        1.0 if cues["sarcasm"] else 0.0,
        1.0 if (cues["own_feeling"] or wrong_owner) else 0.0,
        len(agree) / n_roles,
        len(flip) / n_roles,
        min(neg_mismatch, 2) / 2,
        min(len(reply_pool) / n_sender, 2.0),
        1.0 if len(reply_pool) <= 2 else 0.0,
        1.0 if (len(intrusions) > len(unaligned) or cues["own_feeling"] or wrong_owner) else 0.0,
    ]
    missed_feel = {f for f in s_feel if not any(_match(f, {g}) for _, g in r_feel)}
    missing = [
        u.text for u in units
        if u.coverage < 0.5 or any(_match(f, set(u.content)) for f in missed_feel)
    ]
    names_feeling = bool(r_feel) or any(w.startswith("feel") or w.startswith("felt") for w in body_tokens)
    return Analysis(features, units, missing, intrusions, cues, names_feeling)


def lexicon_swap(tokens: list[str]) -> list[str]:
    """Person swap on tokens (I <-> you), as the Receiver would say the Sender's words."""
    from facilitator.judging.text import PERSON_SWAP

    return [PERSON_SWAP.get(w, w) for w in tokens]
