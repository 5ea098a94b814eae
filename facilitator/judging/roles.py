"""Who does what, and whose feeling it is: I <-> you roles read from the pronouns, as the
Sender said them and as the Receiver gives them back (`roles`, `feelings_by_owner`,
`valences`), and the person swap (`lexicon_swap`).
"""

from __future__ import annotations

from facilitator.judging import lexicon
from facilitator.judging.text import NEGATORS, PERSON_SWAP, stem
from facilitator.judging.units import canon

SELF = frozenset("i me my mine myself i'm i've i'd i'll".split())
OTHER = frozenset("you your yours yourself you're you've you'd you'll ya".split())
# Words skipped when looking for the verb or word that follows a pronoun.
_ROLE_SKIP = frozenset(
    """really just still always never not do did does don't didn't doesn't will would
    am are was were is be been have has had so kind of sort even also only then ever
    can can't could couldn't won't wouldn't should shouldn't gonna wanna to""".split()
)

def roles(tokens: list[str], speaker_is_sender: bool) -> set[tuple[str, str]]:
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


def feelings_by_owner(tokens: list[str], speaker_is_sender: bool) -> list[tuple[str, str]]:
    """(owner, feeling) for each feeling word, owner from the nearest pronoun (see `_owner`)."""
    out = []
    for i, w in enumerate(tokens):
        s = stem(w)
        if s not in lexicon.FEELING_STEMS and w not in lexicon.FEELINGS:
            continue
        owner = _owner(tokens, i, speaker_is_sender, out[-1][0] if out else "?")
        out.append((owner, canon(w)))
    return out


def valences(tokens: list[str], speaker_is_sender: bool) -> list[tuple[str, int]]:
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


def lexicon_swap(tokens: list[str]) -> list[str]:
    """Person swap on tokens (I <-> you), as the Receiver would say the Sender's words."""
    return [PERSON_SWAP.get(w, w) for w in tokens]
