"""Judges for the steps after the mirror: validation, empathy and the Sender's own statement.

Each is a short list of checks a facilitator makes by ear, written as rules over the
transcript (cue phrases from `lexicon`, plus grounding in the Sender's words from
`structure`). Each returns a `Verdict` whose `missing` / `intrusions` name what to coach.
"""

from __future__ import annotations

import re

from facilitator.judging import Verdict, lexicon
from facilitator.judging.roles import feelings_by_owner, valences
from facilitator.judging.units import content_of, matches, sender_units, split_feeling
from facilitator.judging.text import drop_fillers, words

VALIDATION_PHRASE = re.compile(
    r"\b(?:you make sense|(?:that|it|this|all) (?:totally |really |completely )?makes? (?:total |a lot of |perfect )?sense"
    r"|makes (?:total |perfect )?sense|i can see why|i get why|i understand why|i can understand why"
    r"|no wonder|it's understandable|that's understandable|of course you)\b"
)
_HEDGES = re.compile(
    r"\b(?:i guess|i suppose|kinda|kind of|sort of|sorta|i mean i|whatever|fair enough|if you say so"
    r"|overthinking|too sensitive|over reacting|overreacting)\b|^(?:sure|fine|ok fine|yeah sure)\b"
)
_BUT = re.compile(r"\b(?:but|though|although|except|however|still)\b")
_QUESTION_START = re.compile(
    r"^(?:how|what|are|do|does|did|is|was|were|would|will|can|could|why|when)\b"
)
_THOUGHT = re.compile(
    r"\b(?:feel|feeling|felt|think|thinking|believe)\s+(?:like|that|as if)?\s*"
    r"(?:you|i|i'm|my|your|she|he|they|we|it|it's|nobody|no one|everyone|everybody|the|this|that|our|his|her)\b"
)
_OWN_FEELING = re.compile(
    r"\b(?:i feel|i felt|i'm feeling|i am feeling|i'm|i am|honestly i|i've been)\b"
)

_INSULTS = """
lazy selfish liar pathetic idiot stupid useless impossible child childish baby jerk terrible
awful worthless hopeless crazy insane ridiculous immature dramatic cold heartless clueless
incompetent controlling disgusting annoying loser moron dumb irresponsible careless
inconsiderate rude mean cruel fake spoiled spineless weak coward cheap greedy slob pig
narcissist psycho nightmare failure mess joke embarrassment disappointment problem
""".split()
_BLAME_PATTERNS = [
    r"\byou(?:'re| are)? (?:always|never|constantly|only ever|ever)\b",
    r"\b(?:every|each) time you\b",
    r"\balways (?:about|all about) you\b",
    r"\bi feel (?:that|as if) you\b",
    r"\bi feel like you(?:'re| are) (?:a|an|so|such|the|just|always|never|completely|totally)\b",
    r"\bi feel like you (?:don't|do not|never|always|only) (?:care|listen|think|help|love)\b",
    r"\byou(?:'re| are) (?:exactly |just )?like your (?:mother|father|mom|dad|mum|ex|brother|sister)\b",
    r"\bwhat kind of (?:person|parent|husband|wife|partner|man|woman|father|mother|dad|mom|friend)\b",
    r"\b(?:do you want a medal|congratulations|what a surprise|typical|oh great|oh sure|yeah right|big surprise)\b",
    r"\bnobody (?:could|would|can|in their right mind)\b|\bjust ask your\b",
    r"\bit's not like (?:we|you|i|anyone)\b|\bwhy (?:do|did|should) i (?:even )?bother\b",
    r"\bdon't bother coming\b|\bi'm (?:leaving|done|out of here)\b|\bor i'll\b",
    r"\byou make me (?:sick|miserable|crazy|so angry)\b|\byou ruin\b|\byour fault\b|\bbecause of you\b",
    r"\bwhy can't you (?:ever|just|for once)\b|\bcan't you ever\b|\bfor once in your life\b",
    r"\bfine,? do what(?:ever)? you want\b|\bgo ahead\b",
    r"\byou(?:'re| are) (?:such (?:a |an )?|so |a |an |being (?:a |an |so )?|completely |totally |really )?(?:"
    + "|".join(_INSULTS) + r")\b",
    r"\bsuch (?:a |an )(?:" + "|".join(_INSULTS) + r")\b",
    r"\byou (?:don't|do not|never) (?:care|listen|think about)\b",
]
_BLAME_RE = [re.compile(p) for p in _BLAME_PATTERNS]


def _norm(text: str) -> str:
    return " ".join(drop_fillers(words(text)))


def _grounding(context: list[str], text: str) -> tuple[float, int, list[str]]:
    """Share of the reply's content words that come from the Sender, and units touched."""
    pool = set(content_of(text))
    sender_pool = set()
    touched = 0
    missing = []
    for turn in context:
        for unit_text, unit_content in sender_units(turn):
            sender_pool.update(unit_content)
            uniq = set(unit_content)
            if sum(1 for w in uniq if matches(w, pool)) / len(uniq) >= 0.34:
                touched += 1
            else:
                missing.append(unit_text)
    share = sum(1 for w in pool if matches(w, sender_pool)) / len(pool) if pool else 0.0
    return share, touched, missing


# A reason from the Sender's account talks about them ("because you waited an hour"); one
# that never says "you" is the Receiver's own view or a general truth ("sleep is important").
_SECOND_PERSON = frozenset("you your you're you've you'd you'll yours yourself ya".split())
SEMANTIC_GROUNDING = 0.6  # a reason clause this close in meaning to a Sender unit is theirs


def _grounded_in_meaning(context: list[str], rest: str, embedder) -> bool:
    """Some clause of the reason says one of the Sender's units in other words."""
    from facilitator.judging.text import clauses, swap_person

    units = [swap_person(text) for turn in context for text, _ in sender_units(turn)]
    parts = [p for c in clauses(rest) for p in split_feeling(c) if len(content_of(p)) >= 2]
    if not units or not parts:
        return False
    vectors = embedder.encode(units + parts)
    sims = vectors[len(units):] @ vectors[: len(units)].T
    return float(sims.max()) >= SEMANTIC_GROUNDING


def judge_validation(context: list[str], reply: str, embedder=None) -> Verdict:
    """Valid: 'you make sense' with a reason drawn from the Sender's own account.

    With an `embedder` a reason said in other words than the Sender's also counts.
    """
    text = _norm(reply)
    phrase = VALIDATION_PHRASE.search(text)
    problems: list[str] = []
    if not phrase:
        problems.append("no_validation_phrase")
    rest = text[phrase.end():] if phrase else text
    before = text[: phrase.start()] if phrase else ""
    if _HEDGES.search(text):
        problems.append("hedged")
    if _BUT.search(rest[:40]) or _BUT.search(before):
        problems.append("but")
    padded = f" {text} "
    if any(f" {c}" in padded for c in lexicon.SARCASM if c not in ("fine",)):
        problems.append("sarcasm")
    share, touched, missing = _grounding(context, rest)
    about_them = any(w in _SECOND_PERSON for w in rest.split())
    if len(set(content_of(rest))) < 3 or not about_them or (
        (touched == 0 or share < 0.3)
        and not (embedder is not None and not problems and _grounded_in_meaning(context, rest, embedder))
    ):
        problems.append("no_reason_from_sender")
    ok = not problems
    score = round(max(0.0, 1.0 - 0.34 * len(problems)), 3) if not ok else round(min(1.0, 0.6 + share / 2), 3)
    return Verdict("validation", "valid" if ok else "not_valid", score,
                   missing if "no_reason_from_sender" in problems else [], problems if not ok else [])


def judge_empathy(context: list[str], reply: str) -> Verdict:
    """Empathic: names the Sender's feelings, not thoughts, not the Receiver's own."""
    text = _norm(reply)
    tokens = text.split()
    problems: list[str] = []
    padded = f" {text} "
    if any(f" {c}" in padded for c in lexicon.SARCASM if c not in ("fine", "great")):
        problems.append("sarcasm")
    if _QUESTION_START.match(text) and "imagine" not in text:
        problems.append("question")
    # Drop the thought parts ('you feel like i don't care') before looking for feelings.
    feeling_text = re.sub(r"THOUGHT[^,.;!?]*", "THOUGHT ", _THOUGHT.sub(" THOUGHT ", reply.lower()))
    feeling_text = _norm(feeling_text).replace("thought", "THOUGHT")
    owned = feelings_by_owner(feeling_text.split(), speaker_is_sender=False)
    # In 'i imagine you feel X' the nearest pronoun is 'you'; 'i feel X' is the Receiver's.
    theirs = [f for o, f in owned if o in ("S", "?")]
    mine = [f for o, f in owned if o == "R"]
    if "THOUGHT" in feeling_text and not theirs:
        problems.append("thought_not_feeling")
    if mine and not theirs:
        problems.append("own_feelings")
    if not theirs and not problems:
        problems.append("no_feeling_named")
    # Valence from the words as said (the folded forms above group 'calm' with 'quiet').
    valence = [v for o, v in valences(feeling_text.split(), False) if o in ("S", "?")]
    context_val = [v for turn in context for o, v in valences(words(turn), True)]
    if theirs and all(v > 0 for v in valence) and not any(v > 0 for v in context_val):
        problems.append("feeling_does_not_fit")
    if theirs and any(w in tokens for w in ("jealous", "envious")) and not any(
        w in " ".join(context) for w in ("jealous", "envious")
    ) and len(theirs) == 1:
        problems.append("feeling_does_not_fit")
    ok = not problems
    score = round(min(1.0, 0.5 + 0.15 * len(set(theirs))), 3) if ok else 0.0
    return Verdict("empathy", "empathic" if ok else "not_empathic", score, [], problems)


def judge_sender_statement(reply: str) -> Verdict:
    """Blaming: always/never, name-calling, contempt, sarcasm, threats, 'i feel that you...'."""
    text = _norm(reply)
    hits = []
    for pattern in _BLAME_RE:
        m = pattern.search(text)
        if m:
            hits.append(m.group(0))
    ok = not hits
    return Verdict("sender_statement", "safe" if ok else "blaming", 1.0 if ok else 0.0, [], hits)


__all__ = ["judge_validation", "judge_empathy", "judge_sender_statement"]
