"""Why a mirror or summary did not pass, in words a coach can quote back to the Receiver.

`explain(kind, context, reply, reason="")` gives `(reason, detail)`: `reason` is one of
`cases.REASONS` or "", `detail` the short pieces the spoken feedback quotes (see
prompts/feedback.toml), e.g. for a swapped actor {"said": "you drove my dad to the airport",
"heard": "your dad drove you to the airport"}: the Sender's clause and the reply's clause
that disagree, at most 12 words each, as they were said, without fillers.

With a `reason` (from a model) it only looks for that reason's pieces; with "" it reads the
structure (`readings.py`) and names the first of: who did what turned round (`actor`, or
`unswapped` when the Sender's words came back unchanged), a "not" dropped or added
(`negation`), an interpretation or diagnosis (`added`), a plain defense (`defend`); ""
when none is clear (a fair partial). Pieces that cannot be found leave `detail` empty,
and the feedback says the reason's general sentence instead.
"""

from __future__ import annotations

import re

from facilitator.judging import lexicon
from facilitator.judging.cues import CONTRAST, cues_in, has_cue
from facilitator.judging.readings import MAX_WORDS, Side, body, spoken, swapped, tokens
from facilitator.judging.roles import feelings_by_owner, lexicon_swap
from facilitator.judging.units import canon, content_of, matches, sender_units

_QUOTED = re.compile(r"\b(?:you said|you say|say is|said is|you're saying|saying is)\s*[,:\"“]")
# Diagnoses and mind-reading the lexicon's interpretation cues do not hold.
_DIAGNOSIS = ("issues", "self esteem", "you admit", "my fault", "you're saying i'm", "you're saying it's",
              "you think our", "you think we", "you're just", "insecure", "paranoid", "overreact",
              "too sensitive", "you're jealous", "you want me to feel", "drama", "i'm the problem",
              "can't take a joke", "you don't think i", "you're saying i", "so you're saying")
# Interpretation cues a faithful mirror also says ('you just want me there'): named only
# when a model says the reply added something.
_LOOSE = frozenset({"you just want", "you don't want", "you don't like", "you'd rather", "you never",
                    "you always", "you just don't", "you hate"})
# A defense plain enough to name without a model's say-so (with one, any rebuttal cue).
_DEFENSE = ("to be fair", "in my defense", "that's not true", "that's not fair", "not my fault",
            "i never said", "but i was", "but i had", "but you also", "you do it too", "at least i",
            "i already", "i literally", "what else do you want", "what am i supposed to", "it's not like i")
# A negation said in other words: 'less', 'instead of', 'still want to go' for "don't want to skip".
_IMPLICIT = frozenset("less fewer instead rather stop stopped avoid skip lack hardly barely ever still "
                      "anymore losing lost".split())
_MORE = frozenset("always never every everything everyone everybody constantly nothing nobody forever "
                  "all whole".split())
_WHY = frozenset({"because", "cause", "cuz", "since"})
_ASK = frozenset("what why how when where which who whose do did does are is was were can could would "
                 "will have since".split())


def _same(a: str, b: str) -> bool:
    """Two readings of who: 'S', 'R', 'W' (both), someone's ('S:dad' is on S's side), or
    whose feeling ('~S'), which only another feeling can contradict."""
    if "W" in (a, b) or a.startswith("~") != b.startswith("~"):
        return True
    return a.split(":")[0] == b.split(":")[0]


def _alike(said: str, heard: str) -> bool:
    """The same words, give or take a few: the Sender's words came back unchanged."""
    a, b = set(said.lower().split()), set(heard.lower().split())
    return a <= b or b <= a or len(a & b) / len(a | b) >= 0.75


def _actor(s: Side, r: Side) -> tuple[str, dict[str, str]]:
    """A word both say with a different doer, owner or one done to: the first such pair."""
    for clause, low in zip(r.clauses, r.lows):    # the Sender's own words, not turned round
        persons = [t for t in clause if s.person(t[1]) in ("S", "R")]
        if not r.as_sender and persons and len(clause) >= 3 and any(low in said for said in s.lows):
            heard = spoken(clause)
            return "unswapped", {"said": heard, "heard": heard, "swapped": swapped(heard)}
    said = list(s.readings())
    for rc, rj, w, *whos, rstart in r.readings():
        mine = [x for x in said if x[2] == w or (len(w) >= 5 and matches(w, {x[2]}))]
        for k, who in enumerate(whos, start=3):
            theirs = [x for x in mine if x[k]]
            if not who or not theirs or any(_same(who, x[k]) for x in theirs):
                continue
            x = theirs[0]
            owner = k == 4       # 'my dad' -> 'your dad': quote the clause, not from the owner
            detail = {"said": spoken(s.clauses[x[0]], 0 if owner else x[6]),
                      "heard": spoken(r.clauses[rc], 0 if owner else rstart)}
            if _alike(detail["said"], detail["heard"]) and not r.as_sender:
                return "unswapped", {**detail, "swapped": swapped(detail["heard"])}
            return "actor", detail
    return "", {}


def _subject(side: Side, ci: int, j: int) -> int:
    """Where to quote clause ci from: its start, or in a long one the subject of word j."""
    who, start = side.agent([t[1] for t in side.clauses[ci]], j)
    return start if who and len(side.clauses[ci]) > MAX_WORDS else 0


def _negation(s: Side, r: Side) -> tuple[str, dict[str, str]]:
    """A word said with a 'not' on one side and plainly on the other, by the same person,
    when the plain side has no 'not' of its own elsewhere (then it moved, it was not lost)."""
    heads: dict[int, dict[str, list]] = {}
    for n, side in enumerate((s, r)):
        heads[n] = {}
        for ci, j, w, neg, who in side.negations():
            heads[n].setdefault(w, []).append((ci, j, neg, who))

    def moved(n: int, ci: int) -> bool:
        side, other = (s, r)[n], heads[1 - n]
        if any(t[1] in _IMPLICIT for t in side.clauses[ci]):
            return True
        return any(neg and not any(x[2] for x in other.get(w, ()))
                   for w, xs in heads[n].items() for _, _, neg, _ in xs)

    for w, xs in heads[1].items():
        for rc, rj, neg, who in xs:
            there = heads[0].get(w, [])
            if not there or any(x[2] == neg for x in there):
                continue
            sc, sj, _, their = there[0]
            plain, ci = (1, rc) if not neg else (0, sc)
            if (not who or not their or who == their) and not moved(plain, ci):
                return "negation", {"said": spoken(s.clauses[sc], _subject(s, sc, sj)),
                                    "heard": spoken(r.clauses[rc], _subject(r, rc, rj)),
                                    "which": "added" if neg else "dropped"}
    return "", {}


def _cue_clause(side: Side, cues: list[str], lead: bool = True) -> str:
    """The clause holding the first cue, with the next when it is only a frame ('you're saying')."""
    for i, low in enumerate(side.lows):
        if any(has_cue(f" {low} ", cue) for cue in cues):
            clause = side.clauses[i] + (side.clauses[i + 1] if len(low.split()) < 4 and i + 1 < len(side.clauses) else [])
            return spoken(clause, 0, lead)
    return ""


def _least_shared(r: Side, sender: str) -> int:
    """The reply's clause sharing least with the Sender's words (-1 if all share half)."""
    pool = set(content_of(sender))
    scored = [(sum(matches(w, pool) for w in c) / len(c), i) for i, c in enumerate(r.content) if c]
    return min(scored)[1] if scored and min(scored)[0] < 0.5 else -1


def _added(s: Side, r: Side, sender: str, reply: str, given: str) -> tuple[str, dict[str, str]]:
    """An interpretation or a defense, by its cues; with a `given` reason, the clause of the
    reply that shares least with the Sender when no cue is heard."""
    whole = Side(tokens(reply), r.as_sender)       # with its frame: 'so you're saying i'm ...'
    norm = " ".join(whole.lows)
    plain = " ".join(t[1] for c in s.clauses for t in c)
    theirs = plain if r.as_sender else " ".join(lexicon_swap(plain.split()))
    if given in ("", "added"):
        cues = lexicon.INTERPRETATION + _DIAGNOSIS if given else _DIAGNOSIS + tuple(
            c for c in lexicon.INTERPRETATION if c not in _LOOSE)
        cues = [c for c in cues_in(norm, theirs, cues) if f" {c}" not in f" {plain} "]
        if cues:
            return "added", {"heard": _cue_clause(whole, cues)}
    if given in ("", "defend"):
        cues = cues_in(norm, theirs, lexicon.REBUTTAL + _DEFENSE if given else _DEFENSE)
        if given and not any(w in CONTRAST for w in plain.split()):
            cues += [c[0][1] for c in r.clauses if c[0][1] in CONTRAST and len(c) >= 3]
        if cues:
            return "defend", {"heard": _cue_clause(r, cues, lead=False)}
    if given == "question_back":
        asked = [c for c in whole.clauses if c[0][1] in _ASK] or whole.clauses[-1:]
        return given, {"heard": spoken(asked[0])} if asked else {}
    if given:
        i = _least_shared(r, sender)
        return given, {"heard": spoken(r.clauses[i], 0, given != "defend")} if i >= 0 else {}
    return "", {}


def _best(s: Side, content: set[str]) -> int:
    return max(range(len(s.clauses)), key=lambda i: len(s.content[i] & content))


def _other(s: Side, r: Side, sender: str, reason: str) -> dict[str, str]:
    """The pieces for reasons named only by a model: a feeling or part left out, a reason
    of the Receiver's own, a pattern made bigger or smaller."""
    reply_pool = {w for c in r.content for w in c}
    said = [t[1] for c in s.clauses for t in c]
    if reason == "dropped_feeling":
        owned = {f for o, f in feelings_by_owner(said, True) if o != "R"}
        heard = {g for _, g in feelings_by_owner([t[1] for c in r.clauses for t in c], False)}
        lost = [w for w in said if canon(w) in owned and not matches(canon(w), reply_pool | heard)]
        if lost:
            return {"feeling": lost[0]}
        felt = [c for c, low in zip(s.clauses, s.lows) if re.search(r"\b(?:feel|felt|cry|cried|crying)", low)]
        return {"part": spoken(felt[0])} if felt else {}
    if reason == "dropped_point":
        units = [(sum(matches(w, reply_pool) for w in set(c)) / len(set(c)), text) for text, c in sender_units(sender)]
        low = [u for u in units if u[0] < 0.5]
        return {"part": spoken(tokens(min(low)[1]))} if low else {}
    if reason in ("exaggerated", "narrowed"):
        big, small = (r, s) if reason == "exaggerated" else (s, r)
        other = {t[1] for c in small.clauses for t in c}
        for ci, clause in enumerate(big.clauses):
            if any(t[1] in _MORE and t[1] not in other for t in clause) and small.clauses:
                match = spoken(small.clauses[_best(small, big.content[ci])])
                mine = spoken(clause)
                return {"said": match, "heard": mine} if big is r else {"said": mine, "heard": match}
        return {}
    if reason == "reason_changed":
        why = [c for c in r.clauses if c[0][1] in _WHY]
        return {"heard": spoken(why[0], 0, lead=False)} if why else {}
    return {}


def explain(kind: str, context: list[str], reply: str, reason: str = "") -> tuple[str, dict[str, str]]:
    """(reason, detail) for a mirror or summary that did not pass; see the module docstring."""
    if kind not in ("mirror", "summary") or not reply.strip() or not any(t.strip() for t in context):
        return reason, {}
    sender = " . ".join(t.strip().rstrip(".") for t in context)
    frame = _QUOTED.search(reply.lower().replace("’", "'"))    # 'you said: i ...' keeps the Sender's I
    s = Side(tokens(sender), True)
    r = Side(body(reply), bool(frame) and len(reply[:frame.start()].split()) <= 5)
    try:
        if reason in ("", "actor", "unswapped"):
            found, detail = _actor(s, r)      # a model's actor / unswapped: whichever it is
            if found or reason:
                return found or reason, detail
        if reason in ("", "negation"):
            found, detail = _negation(s, r)
            if found or reason:
                return "negation", detail
        if reason in ("", "added", "defend", "question_back", "off_topic"):
            return _added(s, r, sender, reply, reason)
        return reason, _other(s, r, sender, reason)
    except (IndexError, ValueError):       # a turn too short or odd to read: no pieces
        return reason, {}

