"""A turn read word by word for the coach (`explain.py`): its clauses with the words as they
were said (`Side.clauses`), and for each word who does it, whose it is and to whom it is
done, from the Sender's point of view (`Side.readings`), and whether a "not" covers it
(`Side.negations`). `spoken` gives a clause back short enough to quote.

Cruder than a parser and meant to be: it reads pronouns near a word ('you drove', 'your dad
drove', 'hurt me', 'my dad') and says "" when it cannot tell, so a coach names only what
is plain.
"""

from __future__ import annotations

import re

from facilitator.judging import lexicon
from facilitator.judging.roles import OTHER, SELF
from facilitator.judging.text import CLAUSE_STARTERS, FILLERS, NEGATORS, STOPWORDS, stem, words
from facilitator.judging.units import canon, content_of, split_feeling, strip_frame

MAX_WORDS = 12
Token = tuple[str, str, bool]      # (as said, lower case, follows punctuation)

_TOKEN = re.compile(r"([A-Za-z0-9'’]+)|([.!?;:,\"“”]+|\s-\s)")
_STUTTER = frozenset({"i", "you", "the", "a", "and", "so", "i'm", "we"})
_LEAD = frozenset("""so and but like because cause since when whenever basically okay ok yeah well
    right um uh just that then also sounds""".split())
_TAIL = frozenset("so and but like the a an to for of with every your my our in on at that".split())
# Words passed over between a word and its subject ('you really didn't even drive').
SKIP = frozenset("""really just still always never not do did does don't didn't doesn't will would am
    are was were is be been have has had even also only then ever can can't could couldn't won't
    wouldn't should shouldn't gonna wanna feel feels felt keep kept the a an all one who being to
    longer""".split())
POSSESSIVES = {"my": "S", "your": "R", "our": "W"}
# Stop words that still say who does what, or that a "not" may cover.
HEADS = frozenset("like want know care mind trust help love think thought say said says told tell knew".split())
# Feelings said as verbs whose object feels them: 'it hurt me', 'that wore you out'.
_CAUSATIVE = ("hurt", "scar", "upset", "frighten", "worr", "embarrass", "humiliat", "sting", "stung",
              "annoy", "bother", "frustrat", "stress", "disappoint", "overwhelm", "terrif", "offend",
              "worn", "wore", "wear", "tire", "exhaust", "drain")
_PASSIVE = frozenset("was were been being is are get got gets getting".split())
_OBJECT = frozenset("me us mine yours myself yourself".split())
_THROUGH = frozenset("get got any much enough".split())
_PREP = frozenset("to about for with at on of from by up out".split())


def negator(w: str) -> bool:
    """A word that says 'not' ('without' excepted: 'before asking' says it too)."""
    return (w in NEGATORS or w.endswith("n't")) and w != "without"


def tokens(text: str) -> list[Token]:
    """The words of a turn as said, without fillers and stutters."""
    out: list[Token] = []
    brk = True
    for m in _TOKEN.finditer(text):
        if m.group(2):
            brk = True
            continue
        said = m.group(1).replace("’", "'").strip("'")
        low = said.lower()
        if not said or low in FILLERS or (out and not brk and out[-1][1] == low and low in _STUTTER):
            continue
        out.append((said, low, brk))
        brk = False
    return out


def body(reply: str) -> list[Token]:
    """The reply's words without its mirror opener and check-in (see `units.strip_frame`)."""
    toks = tokens(reply)
    kept = words(strip_frame(reply)[0])
    lows = [t[1] for t in toks]
    for k in range(len(lows) - len(kept) + 1):
        if kept and lows[k:k + len(kept)] == kept:
            return toks[k:k + len(kept)]
    return toks


def clauses_of(toks: list[Token]) -> list[list[Token]]:
    """Clauses as `text.clauses` cuts them (punctuation, 'and', 'when', a feeling starting)."""
    pieces: list[list[Token]] = []
    for t in toks:
        if not pieces or t[2] or (t[1] in CLAUSE_STARTERS and pieces[-1][-1][1] not in CLAUSE_STARTERS):
            pieces.append([])
        pieces[-1].append(t)
    cut: list[list[Token]] = []
    for piece in pieces:
        start = 0
        for part in split_feeling(" ".join(t[1] for t in piece)):
            cut.append(piece[start:start + len(part.split())])
            start += len(part.split())
    merged: list[list[Token]] = []
    for piece in cut:
        if merged and (len(piece) < 2 or len(merged[-1]) < 2):
            merged[-1] = merged[-1] + piece
        else:
            merged.append(piece)
    return merged


def spoken(clause: list[Token], start: int = 0, lead: bool = True) -> str:
    """A clause as said from token `start`, without leading fillers ('so', 'and', 'basically',
    unless `lead` is False) or a dangling last word, at most MAX_WORDS."""
    end = len(clause)
    while lead and start < end - 1 and clause[start][1] in _LEAD:
        start += 1
    end = min(end, start + MAX_WORDS)
    while end - start > 1 and clause[end - 1][1] in _TAIL:
        end -= 1
    return " ".join("I" + t[0][1:] if t[1] in SELF and t[1].startswith("i") else t[0]
                    for t in clause[start:end])


def swapped(text: str) -> str:
    """Said from the other side: I <-> you, 'by you' -> 'by me', 'you drove' -> 'i drove'."""
    toks = words(text)
    out = []
    for i, w in enumerate(toks):
        prev, nxt = (toks[i - 1] if i else ""), (toks[i + 1] if i + 1 < len(toks) else "")
        if w == "you":
            verb = prev and prev not in STOPWORDS and prev not in CLAUSE_STARTERS
            out.append("me" if prev in _PREP or verb and (not nxt or nxt in STOPWORDS) else "i")
        else:
            out.append({"i": "you", "me": "you", "my": "your", "your": "my", "mine": "yours",
                        "yours": "mine", "myself": "yourself", "yourself": "myself", "i'm": "you're",
                        "you're": "i'm", "i've": "you've", "you've": "i've", "i'd": "you'd",
                        "you'd": "i'd", "i'll": "you'll", "you'll": "i'll"}.get(w, w))
    agree = {("you", "was"): "were", ("i", "were"): "was", ("i", "are"): "am", ("you", "am"): "are"}
    out = [agree.get((out[i - 1], w), w) if i else w for i, w in enumerate(out)]
    return spoken(tokens(" ".join(out)))


class Side:
    """One turn (the Sender's, or the reply as the Receiver said it, or quoted in the
    Sender's own words when `as_sender`), read word by word."""

    def __init__(self, toks: list[Token], as_sender: bool):
        self.clauses = clauses_of(toks)
        self.as_sender = as_sender
        self.content = [set(content_of(" ".join(t[1] for t in c))) for c in self.clauses]
        self.ellipsis = any(t[1] in ("mine", "yours") for t in toks)   # 'i always plan yours'
        self.lows = [" ".join(t[1] for t in c) for c in self.clauses]

    def person(self, low: str) -> str:
        """'S' (the Sender), 'R' (the Receiver), 'W' (both) or "" for a pronoun."""
        if low in SELF or low in OTHER:
            return "S" if (low in SELF) == self.as_sender else "R"
        return "W" if low in ("we", "us", "our") else ""

    def agent(self, lows: list[str], j: int) -> tuple[str, int]:
        """Who does lows[j], and where the subject starts: 'you drove' -> ('R', i), 'your dad
        drove' -> ('S:dad', i); ("", j) when unclear or passive ('i was offered', 'bored by you')."""
        if lows[j + 1:j + 2] == ["by"]:
            return "", j
        if j >= 3 and lows[j - 2] == "one" and lows[j - 1] in ("who", "that"):   # 'i'm the one who'
            for i in range(j - 3, max(-1, j - 8), -1):
                if self.person(lows[i]):
                    return self.person(lows[i]), i
            return "", j
        for i in range(j - 1, max(-1, j - 6), -1):
            w = lows[i]
            if (w in POSSESSIVES and i == j - 1) or w in _PASSIVE:
                return "", j          # 'my dad': an owner, compared on its own
            if w in SKIP or w in POSSESSIVES or w.endswith("ly"):
                continue
            if self.person(w):
                prev = lows[i - 1] if i else ""
                obj = w in _OBJECT or (w == "you" and (prev in _PREP or prev and prev not in STOPWORDS))
                return ("", j) if obj else (self.person(w), i)     # not 'by you', 'told you'
            if w not in STOPWORDS and i > 0 and lows[i - 1] in POSSESSIVES:
                return f"{self.person(lows[i - 1])}:{canon(w)}", i - 1
            return "", j
        return "", j

    def owner(self, lows: list[str], j: int) -> str:
        """Whose lows[j] is: 'my dad', 'your big presentation'."""
        for i in (j - 1, j - 2):
            if i >= 0 and lows[i] in POSSESSIVES:
                return self.person(lows[i])
            if i < 0 or lows[i] in STOPWORDS:
                return ""
        return ""

    def patient(self, lows: list[str], j: int) -> str:
        """Whom lows[j] is done to: 'hurt me', 'asks about me', 'hurt you so' (not 'time you sulked')."""
        for i in range(j + 1, min(len(lows), j + 4)):
            w, nxt = lows[i], (lows[i + 1] if i + 1 < len(lows) else "")
            if w == "by":
                return ""
            if w in ("me", "us", "myself", "yourself") or w == "you" and (
                    not nxt or nxt in STOPWORDS and nxt not in SKIP and not negator(nxt)):
                return self.person(w)
            if w not in _PREP:
                return ""
        return ""

    def readings(self):
        """(clause, token, canon word, who does it, whose it is, to whom, subject start) per
        word; a feeling's 'who' is who feels it, marked '~' ('i felt hurt', 'it hurt me')."""
        for ci, clause in enumerate(self.clauses):
            lows = [t[1] for t in clause]
            for j, w in enumerate(lows):
                if (w in STOPWORDS and w not in HEADS) or w in SKIP or negator(w) or w == "like":
                    continue
                agent, start = self.agent(lows, j)
                patient = self.patient(lows, j)
                if stem(w) in lexicon.FEELING_STEMS or w in lexicon.FEELINGS:
                    if w.startswith(_CAUSATIVE) and lows[j + 1:j + 2] in (["me"], ["you"]):
                        agent = self.person(lows[j + 1])
                    agent, patient = agent and "~" + agent, ""
                owner = "" if self.ellipsis else self.owner(lows, j)
                yield ci, j, canon(w), agent, owner, patient, start if agent else 0

    def negations(self):
        """(clause, token, canon word, negated, who does it) per word a 'not' could cover; a
        clause with two negations ('not because you don't') counts as plain."""
        for ci, clause in enumerate(self.clauses):
            lows = [t[1] for t in clause]
            scope = False
            for j, w in enumerate(lows):
                if negator(w) and not (w == "no" and j == 0):
                    scope = sum(map(negator, lows)) == 1
                    continue
                if (w in SKIP and w not in ("the", "a", "an", "all")) or w in _THROUGH or (
                        self.person(w) and w not in POSSESSIVES):
                    continue          # 'never get any time': the 'not' goes on to 'time'
                head = w not in STOPWORDS or (w in HEADS and j and (self.person(lows[j - 1]) or lows[j - 1] in SKIP))
                if head and w not in ("feel", "felt"):
                    yield ci, j, canon(w), scope, self.agent(lows, j)[0]
                scope = False
