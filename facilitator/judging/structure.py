"""Structure of a reply against what the Sender said: units, alignment, roles, negation.

`analyse(sender, reply, embedder)` splits the Sender's turn into units (clauses: trigger,
feeling, reason, request), checks which of them the reply brings back (by words, and with
an embedder also by meaning, see `semantic.py`), who does what in each (I <-> you roles),
whether a negation, an opposite word or a feeling flipped, and which of the reply's
clauses do not come from the Sender at all (rebuttal, a new "but", advice,
interpretation, a new topic). The result is a handful of numbers (`Analysis.features`)
for a small learned head, plus the words a coach needs: what was missed and what intruded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from facilitator.judging import lexicon
from facilitator.judging.text import (
    CLAUSE_STARTERS,
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
    "neg_mismatch", "len_ratio", "short_reply", "any_intrusion", "opener", "checkin",
    "valence_flip", "role_net", "mid_question", "opposite", "flip_share", "new_but", "any_flag",
)
# Added when the paraphrase model is there (see `semantic.py`): meaning, not words.
SEMANTIC_FEATURE_NAMES = (
    "sem_mean", "sem_min", "tok_mean", "tok_min", "tok_units_hi", "tok_prec_min", "tok_foreign",
    "sem_units_hi", "sem_units_lo", "comb_cov", "comb_min",
    "comb_units", "sem_back_min", "sem_novel_frac", "sem_unaligned_frac", "sem_whole",
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


_OBJECTS = frozenset({"me", "you", "ya"})
_POSSESSIVE = frozenset({"my", "mine", "your", "yours"})  # 'my deadline' says nothing of who feels
# Someone else is the subject: 'i said everyone gets stressed' is nobody's feeling here.
_THIRD = frozenset("he she they we everyone everybody nobody someone somebody people he's she's they're".split())
# Feelings said as verbs whose object feels them: 'that hurt you', 'it scares me'
# (unlike 'i appreciated you', where the subject does).
_CAUSATIVE = ("hurt", "scar", "upset", "frighten", "worr", "embarrass", "humiliat", "stung", "sting",
              "annoy", "bother", "frustrat", "stress", "anger", "disappoint", "confus", "overwhelm",
              "terrif", "shock", "offend", "startl", "alarm", "panick", "pressur", "rush", "crush")


def _owner(tokens: list[str], i: int, speaker_is_sender: bool, default: str) -> str:
    """Whose feeling tokens[i] is: 'that hurt you' -> you; else the nearest I/you before it."""
    nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
    if nxt in _OBJECTS and tokens[i].startswith(_CAUSATIVE):
        return ("R" if speaker_is_sender else "S") if nxt in OTHER else ("S" if speaker_is_sender else "R")
    for prev in reversed(tokens[max(0, i - 5) : i]):
        if prev in _POSSESSIVE:
            continue
        if prev in _THIRD:
            return "?"
        if prev in SELF:
            return "S" if speaker_is_sender else "R"
        if prev in OTHER:
            return "R" if speaker_is_sender else "S"
    return default


def _feelings_by_owner(tokens: list[str], speaker_is_sender: bool) -> list[tuple[str, str]]:
    """(owner, feeling) for each feeling word, owner from the nearest pronoun (see `_owner`)."""
    out = []
    for i, w in enumerate(tokens):
        s = stem(w)
        if s not in lexicon.FEELING_STEMS and w not in lexicon.FEELINGS:
            continue
        owner = _owner(tokens, i, speaker_is_sender, out[-1][0] if out else "?")
        out.append((owner, canon(w)))
    return out


def _valences(tokens: list[str], speaker_is_sender: bool) -> list[tuple[str, int]]:
    """(owner, +1/-1) per feeling word; 'not happy', "don't feel safe" count as painful."""
    out = []
    for i, w in enumerate(tokens):
        v = lexicon.FEELING_STEMS.get(stem(w), lexicon.FEELINGS.get(w))
        if v is None:
            continue
        before = tokens[max(0, i - 2) : i]
        if any(b in NEGATORS or b.endswith("n't") for b in before):
            v = -v
        out.append((_owner(tokens, i, speaker_is_sender, "?"), v))
    return out


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


def _opposites(sender_tokens: list[str], body_tokens: list[str]) -> list[str]:
    """Reply words whose opposite the Sender said instead ('full time' for 'part time').

    Not when either side is negated: 'not safe' for 'unsafe' is the same thing.
    """
    s = {stem(w) for w in sender_tokens}
    r = {stem(w) for w in body_tokens}
    s_neg, r_neg = _negated_stems(sender_tokens), _negated_stems(body_tokens)
    return sorted(w for w in r - s - r_neg
                  if any(o in s and o not in r and o not in s_neg for o in lexicon.OPPOSITES.get(w, ())))


def _polarity_flips(sender: str, body: str) -> int:
    """Words the reply shares with the Sender but says with the opposite negation."""
    s, r = _polarity(sender), _polarity(body)
    return sum(1 for w, pol in r.items() if w in s and len(pol) == 1 and len(s[w]) == 1 and pol != s[w])


def _valence_flip(sender_tokens: list[str], body_tokens: list[str]) -> bool:
    """The reply gives the Sender a feeling of the opposite kind ('left out' -> 'included')."""
    sender = {v for o, v in _valences(sender_tokens, True) if o != "R"}
    if len(sender) != 1:
        return False
    theirs = {v for o, v in _valences(body_tokens, False) if o != "R"}
    return bool(theirs) and sender.isdisjoint(theirs)


_CONTRAST = frozenset("but though although except however yet".split())


def _new_contrast(sender_tokens: list[str], r_clauses: list[str]) -> bool:
    """A 'but ...' the Sender never said: the usual start of a defense inside a mirror."""
    if any(w in _CONTRAST for w in sender_tokens):
        return False
    return any(c.split()[0] in _CONTRAST for c in r_clauses if len(c.split()) >= 3)


_CHECKIN_ONLY = re.compile(r"^\s*(?:" + "|".join(lexicon.CHECK_INS) + r")\s*$")


def _mid_question(reply: str) -> bool:
    """A question inside the reply, with talk after it: 'you're tired? i've been up since five'."""
    parts = reply.lower().split("?")
    for after in parts[1:]:
        rest = " ".join(words(after))
        if len(rest.split()) >= 3 and not _CHECKIN_ONLY.match(rest):
            return True
    return False


# Cues that mean sarcasm only when the reply opens with them ("got it, so i'm the bad guy"),
# not inside a clause ("the guy who got it").
_START_ONLY = frozenset({"got it"})


def _has_cue(padded: str, cue: str) -> bool:
    """`cue` in the space-padded text, starting at a word; ending at one unless it ends in a space."""
    if cue in _START_ONLY:
        return padded.startswith(f" {cue} ")
    return (f" {cue}" if cue.endswith(" ") else f" {cue} ") in padded


def _cue(reply_norm: str, sender_swapped: str, cues: tuple[str, ...]) -> list[str]:
    padded = f" {reply_norm} "
    sender = f" {sender_swapped} "
    return [c for c in cues if _has_cue(padded, c) and f" {c}" not in sender]


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
        content = _content(text)
        if not content:
            continue
        if units and len(content) < 2 and not feeling:
            prev_text, prev_content = units[-1]
            units[-1] = (f"{prev_text} {text}", prev_content + tuple(content))
        else:
            units.append((text, tuple(content)))
    return tuple(units)


def analyse(sender: str, reply: str, embedder=None) -> Analysis:
    """Compare a reply with the Sender's turn; see the module docstring.

    With an `embedder` (see `embed.py`) the features also hold SEMANTIC_FEATURE_NAMES:
    each Sender unit compared in meaning with the reply's clauses, so a faithful
    paraphrase counts as covered and only what matches nothing is an intrusion.
    """
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
        sum(1 for f in s_feel if any(_match(f, {g}) for _, g in r_feel) or _match(f, reply_pool))
        / len(s_feel) if s_feel else 1.0
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
    r_clauses = [p for c in clauses(body) for p in split_feeling(c) if _content(p)]
    unaligned: list[str] = []
    novel = 0
    total = 0
    lexical_share: list[float] = []
    for c in r_clauses:
        cc = set(_content(c))
        hits = sum(1 for w in cc if _match(w, sender_pool))
        total += len(cc)
        novel += len(cc) - hits
        share = hits / len(cc)
        lexical_share.append(share if len(cc) >= 2 else 1.0)
        if share < 0.34 and len(cc) >= 2:
            unaligned.append(c)

    sem = None
    if embedder is not None:
        from facilitator.judging.semantic import compare

        sem = compare(embedder, units, r_clauses, lexical_share)
        # A clause that shares few words but says what the Sender said is no intrusion.
        unaligned = [c for c, s in zip(r_clauses, sem.aligned) if c in unaligned and not s]

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
            _has_cue(padded, cue) if cue not in _START_ONLY else c == r_clauses[0]
            for kind in ("rebuttal", "advice", "interpretation", "sarcasm")
            for cue in cues[kind]
        ):
            intrusions.append(c)
    if not any(w in _CONTRAST for w in sender_tokens):  # "..., but i was tired": a defense
        intrusions += [c for c in r_clauses if c not in intrusions and len(c.split()) >= 3
                       and c.split()[0] in _CONTRAST]

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
        min(_polarity_flips(sender, body), 2) / 2,
        min(len(reply_pool) / n_sender, 2.0),
        1.0 if len(reply_pool) <= 2 else 0.0,
        1.0 if (len(intrusions) > len(unaligned) or cues["own_feeling"] or wrong_owner) else 0.0,
        1.0 if opener else 0.0,
        1.0 if checkin else 0.0,
        1.0 if _valence_flip(sender_tokens, body_tokens) else 0.0,
        max(-1.0, min(1.0, (len(flip) - len(agree)) / n_roles)),
        1.0 if _mid_question(reply) else 0.0,
        1.0 if _opposites(sender_tokens, body_tokens) else 0.0,
        # of the reply's who-does-what that match the Sender's either way, the share turned round
        len(flip) / max(1, len(flip) + len(agree)),
        1.0 if _new_contrast(sender_tokens, r_clauses) else 0.0,
    ]
    # One flag for anything a facilitator would stop at, so the head sees it often enough.
    flag = dict(zip(FEATURE_NAMES, features))
    features.append(1.0 if (
        flag["rebuttal"] or flag["advice"] or flag["interpretation"] or flag["sarcasm"]
        or flag["own_feeling"] or flag["valence_flip"] or flag["mid_question"] or flag["neg_mismatch"]
        or flag["role_net"] > 0.3 or flag["opposite"] or (flag["flip_share"] >= 0.5 and len(flip) > 0)
        or flag["new_but"]
    ) else 0.0)
    if sem is not None:
        # words new to the Sender's turn, counted in meaning: a paraphrase's words are not new
        features[FEATURE_NAMES.index("novel_frac")] = sem.novel
        features += sem.features
    missed_feel = {f for f in s_feel if not any(_match(f, {g}) for _, g in r_feel) and not _match(f, reply_pool)}
    covered = sem.unit_cover if sem is not None else [u.coverage for u in units]
    missing = [
        u.text for u, cov in zip(units, covered)
        if cov < 0.5 or any(_match(f, set(u.content)) for f in missed_feel)
    ]
    names_feeling = bool(r_feel) or any(w.startswith("feel") or w.startswith("felt") for w in body_tokens)
    return Analysis(features, units, missing, intrusions, cues, names_feeling)


def lexicon_swap(tokens: list[str]) -> list[str]:
    """Person swap on tokens (I <-> you), as the Receiver would say the Sender's words."""
    from facilitator.judging.text import PERSON_SWAP

    return [PERSON_SWAP.get(w, w) for w in tokens]
