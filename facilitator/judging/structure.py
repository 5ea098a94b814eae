"""Structure of a reply against what the Sender said: units, alignment, roles, negation.

`analyse(sender, reply, embedder)` splits the Sender's turn into units (clauses: trigger,
feeling, reason, request), checks which of them the reply brings back (by words, and with
an embedder also by meaning, see `semantic.py`), who does what in each (I <-> you roles),
whether a negation, an opposite word or a feeling flipped, and which of the reply's
clauses do not come from the Sender at all (rebuttal, a new "but", advice,
interpretation, a new topic). The result is a handful of numbers (`Analysis.features`)
for a small learned head, plus the words a coach needs: what was missed and what intruded.

The readings it combines are modules of their own: `units.py` (the Sender's units, the
reply's frame), `roles.py` (who does what, whose feeling), `polarity.py` (negation,
opposites) and `cues.py` (the Receiver's own words: rebuttal, advice, a new "but").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from facilitator.judging import lexicon
from facilitator.judging.cues import CONTRAST, START_ONLY, cues_in, has_cue, mid_question, new_contrast
from facilitator.judging.polarity import opposites, polarity_flips, valence_flip
from facilitator.judging.roles import (  # noqa: F401 (importable from here, as before)
    OTHER, SELF, feelings_by_owner, lexicon_swap, roles,
)
from facilitator.judging.text import clauses, drop_fillers, words
from facilitator.judging.units import (  # noqa: F401 (importable from here, as before)
    Unit, canon, content_of, matches, sender_units, split_feeling, strip_frame,
)

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


@dataclass
class Analysis:
    features: list[float]
    units: list[Unit]
    missing: list[str]
    intrusions: list[str]
    cues: dict[str, list[str]] = field(default_factory=dict)
    reply_names_feeling: bool = False


def analyse(sender: str, reply: str, embedder=None) -> Analysis:
    """Compare a reply with the Sender's turn; see the module docstring.

    With an `embedder` (see `embed.py`) the features also hold SEMANTIC_FEATURE_NAMES:
    each Sender unit compared in meaning with the reply's clauses, so a faithful
    paraphrase counts as covered and only what matches nothing is an intrusion.
    """
    body, opener, checkin = strip_frame(reply)
    body_tokens = words(body)
    reply_pool = set(content_of(body))
    units = [Unit(t, list(c)) for t, c in sender_units(sender)]
    sender_pool = {w for u in units for w in u.content}
    sender_tokens = drop_fillers(words(sender))
    sender_swapped = " ".join(lexicon_swap(sender_tokens))

    for u in units:
        uniq = set(u.content)
        u.coverage = sum(1 for w in uniq if matches(w, reply_pool)) / len(uniq)
    sizes = [len(set(u.content)) for u in units] or [1]
    covs = [u.coverage for u in units] or [0.0]
    cov_mean = sum(c * s for c, s in zip(covs, sizes)) / sum(sizes)

    # Feelings: which of the Sender's the reply names, and whose they are in the reply.
    s_feel = {f for o, f in feelings_by_owner(sender_tokens, True) if o != "R"}
    r_feel = feelings_by_owner(body_tokens, False)
    feeling_cov = (
        sum(1 for f in s_feel if any(matches(f, {g}) for _, g in r_feel) or matches(f, reply_pool))
        / len(s_feel) if s_feel else 1.0
    )
    wrong_owner = [f for o, f in r_feel if o == "R" and f in s_feel or o == "R" and not s_feel]

    # Roles: who does what, read straight and read with the person swap.
    s_roles = roles(sender_tokens, True)
    r_roles = roles(body_tokens, False)
    r_roles_unswapped = roles(body_tokens, True)
    agree = s_roles & r_roles
    flip = (s_roles & r_roles_unswapped) - agree
    n_roles = max(1, len(s_roles))

    # The reply's clauses: aligned to a Sender unit, or something of the Receiver's own.
    r_clauses = [p for c in clauses(body) for p in split_feeling(c) if content_of(p)]
    unaligned: list[str] = []
    novel = 0
    total = 0
    lexical_share: list[float] = []
    for c in r_clauses:
        cc = set(content_of(c))
        hits = sum(1 for w in cc if matches(w, sender_pool))
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
        "rebuttal": cues_in(norm, sender_swapped, lexicon.REBUTTAL),
        "advice": cues_in(norm, sender_swapped, lexicon.ADVICE),
        "interpretation": cues_in(norm, sender_swapped, lexicon.INTERPRETATION),
        "sarcasm": cues_in(norm, sender_swapped, lexicon.SARCASM),
        "own_feeling": cues_in(norm, sender_swapped, lexicon.OWN_FEELING),
    }
    intrusions = list(unaligned)
    for c in r_clauses:
        padded = f" {c} "
        if c not in intrusions and any(
            has_cue(padded, cue) if cue not in START_ONLY else c == r_clauses[0]
            for kind in ("rebuttal", "advice", "interpretation", "sarcasm")
            for cue in cues[kind]
        ):
            intrusions.append(c)
    if not any(w in CONTRAST for w in sender_tokens):  # "..., but i was tired": a defense
        intrusions += [c for c in r_clauses if c not in intrusions and len(c.split()) >= 3
                       and c.split()[0] in CONTRAST]

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
        min(polarity_flips(sender, body), 2) / 2,
        min(len(reply_pool) / n_sender, 2.0),
        1.0 if len(reply_pool) <= 2 else 0.0,
        1.0 if (len(intrusions) > len(unaligned) or cues["own_feeling"] or wrong_owner) else 0.0,
        1.0 if opener else 0.0,
        1.0 if checkin else 0.0,
        1.0 if valence_flip(sender_tokens, body_tokens) else 0.0,
        max(-1.0, min(1.0, (len(flip) - len(agree)) / n_roles)),
        1.0 if mid_question(reply) else 0.0,
        1.0 if opposites(sender_tokens, body_tokens) else 0.0,
        # of the reply's who-does-what that match the Sender's either way, the share turned round
        len(flip) / max(1, len(flip) + len(agree)),
        1.0 if new_contrast(sender_tokens, r_clauses) else 0.0,
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
    missed_feel = {f for f in s_feel if not any(matches(f, {g}) for _, g in r_feel) and not matches(f, reply_pool)}
    covered = sem.unit_cover if sem is not None else [u.coverage for u in units]
    missing = [
        u.text for u, cov in zip(units, covered)
        if cov < 0.5 or any(matches(f, set(u.content)) for f in missed_feel)
    ]
    names_feeling = bool(r_feel) or any(w.startswith("feel") or w.startswith("felt") for w in body_tokens)
    return Analysis(features, units, missing, intrusions, cues, names_feeling)
