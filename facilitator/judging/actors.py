"""Who did what to whom, said back the wrong way round: training rows for
data/judging/train_cross.py (`actor_swaps`) and the judge's check (`turned_round`).

A good mirror keeps the Sender's roles: "you drove my dad" is said back "I drove your dad".
Here one clause of a good mirror has its doer and its receiver exchanged -- "your dad drove
me" -- keeping nearly every word, the reply most easily passed by a judge that reads words.
Only clauses of the shape PRONOUN VERB OBJECT are touched, where the object is a pronoun or a
possessive and a person ("me", "your dad", "my sister"), and the verb is a plain word.
"""

from __future__ import annotations

import re

from facilitator.judging.text import swap_person, words

SUBJECT_TO_OBJECT = {"i": "me", "you": "you", "he": "him", "she": "her", "we": "us", "they": "them"}
OBJECT_TO_SUBJECT = {"me": "I", "you": "you", "him": "he", "her": "she", "us": "we", "them": "they"}
POSSESSIVE = ("my", "your", "his", "her", "our", "their")
NOT_VERBS = frozenset("""am are is was were be been do does did don't didn't have has had will would
    can can't could should just really always never also still feel felt think know want wanted need
    like love hate said say told tell mean get got go went make made not so and but that to""".split())
PEOPLE = ("dad mom mum mother father parents sister brother family friend friends boss kids son "
          "daughter wife husband partner nan grandma grandpa aunt uncle cousin ex mate colleague "
          "sponsor therapist doctor").split()
_CLAUSE = re.compile(
    r"\b(?P<subj>i|you|he|she|we|they)\s+(?P<verb>[a-z]+)\s+"
    r"(?P<obj>me|you|him|us|them|(?:my|your|his|her|our|their)\s+(?:" + "|".join(PEOPLE) + r"))\b", re.I)


def _as_subject(obj: str) -> str:
    words = obj.split()
    if len(words) == 1:
        return OBJECT_TO_SUBJECT[words[0].lower()]
    return obj


def swap_actors(reply: str) -> str | None:
    """The reply with its first PRONOUN VERB OBJECT clause turned round; None when it has none."""
    for match in _CLAUSE.finditer(reply):
        subj, verb, obj = match["subj"].lower(), match["verb"].lower(), match["obj"]
        if verb in NOT_VERBS or len(verb) < 3:
            continue
        if obj.lower() == "you" and subj == "you" or obj.lower() == subj:
            continue
        new_subject = _as_subject(obj)
        new_object = SUBJECT_TO_OBJECT[subj]
        if new_subject.lower() == subj:
            continue
        turned = f"{new_subject} {verb} {new_object}"
        return reply[:match.start()] + turned + reply[match.end():]
    return None


def actor_swaps(cases: list[dict]) -> list[dict]:
    """not_mirror / not_summary rows (reason "actor") from the good and partial mirrors and
    summaries whose reply has a clause to turn round."""
    out = []
    for case in cases:
        if case["kind"] not in ("mirror", "summary") or case["label"] not in ("mirror", "partial", "complete"):
            continue
        turned = swap_actors(case["reply"])
        if turned is None:
            continue
        label = "not_mirror" if case["kind"] == "mirror" else "not_summary"
        out.append({**case, "reply": turned, "label": label, "reason": "actor", "id": case["id"] + "-actor"})
    return out


def turned_round(context: list[str], reply: str) -> str | None:
    """The words of the reply that say one of the Sender's PRONOUN VERB OBJECT clauses with
    its doer and receiver exchanged ("you drove my dad" said back as "your dad drove me"
    instead of "i drove your dad"), when the rightly turned clause is not said too and the
    Sender did not say those very words (a quoted mirror keeps them: "you hugged me"); else None."""
    heard = " ".join(words(reply))
    said = " ".join(words(" ".join(context)))
    for match in _CLAUSE.finditer(swap_person(" ".join(context))):
        turned = swap_actors(match.group(0))
        if turned is None:
            continue
        turned = " ".join(words(turned))
        if (re.search(rf"\b{re.escape(turned)}\b", heard)
                and not re.search(rf"\b{re.escape(turned)}\b", said)
                and not re.search(rf"\b{re.escape(match.group(0).lower())}\b", heard)):
            return turned
    return None
