"""The text end-of-turn model's features: what the words so far look like at a pause.

`features(text, step)` turns the transcript of an open turn (as Whisper writes it, or as
the hand-written cases are: lower case, little punctuation) and the dialogue step into a
list of string features; the trained weights (words.py) give each a weight. Training
(data/turn_end/train.py) and the run time use this one function, so they cannot drift.

What it looks at: the last words (1-3 grams) and their classes (conjunction, preposition,
determiner, subject pronoun, auxiliary, filler), how the text ends (".", "?", ",", "..."),
an open subordinate clause ("when you ..." with no main clause yet), whether the clause
since the last conjunction has a verb, an open quote, how many sentences there are and
how long the last one is, the last sentence's first words ("i need ..." tends to close a
message, "i felt ... when" to open one), and the step (by name and by its group), crossed
with the most telling of these.
"""

from __future__ import annotations

import re

# The dialogue steps (prompts/intentional_dialogue.toml) in groups that speak alike.
STEP_GROUPS = {
    "send": "message", "send_more": "message", "clarify": "message",
    "mirror": "mirror", "summary": "summary", "validate": "validate", "empathize": "empathize",
    "appointment": "appointment",
    "availability": "answer", "confirm": "answer", "more": "answer",
    "summary_confirm": "answer", "empathy_confirm": "answer",
    "appreciate_sender": "appreciate", "appreciate_receiver": "appreciate",
}

SUBORDINATORS = frozenset("when because if since while although though unless until whenever "
                          "once cause 'cause whereas".split())
CONJUNCTIONS = frozenset("and but or so then plus nor yet".split())
PREPOSITIONS = frozenset("of for from in on at by into with to about than through over under "
                         "between without after before around across against during toward "
                         "towards onto upon within behind".split())
DETERMINERS = frozenset("the a an my your our their his her its this these those some any every "
                        "no each another all".split())
SUBJECTS = frozenset("i you he she we they it i'm you're we're they're he's she's it's "
                     "i've you've we've i'd you'd we'd i'll you'll we'll there".split())
AUXILIARIES = frozenset("is was are were am be been being have has had do does did will would "
                        "can could should might must may shall don't didn't doesn't can't "
                        "couldn't wouldn't won't isn't wasn't aren't weren't haven't hasn't".split())
RELATIVES = frozenset("that which who whom whose where what how why".split())
FILLERS = frozenset("um uh er erm hmm mm like well".split())
INTENSIFIERS = frozenset("very really just so too also more most even still".split())
# Verbs common in these turns, as a clause's sign of having its verb (besides the auxiliaries,
# "-ed" words and contractions).
VERBS = frozenset("""feel felt feels feeling need needs want wants wanted hear heard hearing
    think thought know knew see saw get got go went come came make made take took say said
    tell told ask asked worry worried miss missed love like hate care mean meant try tried
    help helped leave left keep kept seem seems sound sounds imagine understand understood
    wish hope appreciate appreciated notice noticed forget forgot remember call called look
    looked sit sat stay stayed work worked spend spent check checked do does did doing going
    happen happened matter matters matters sleep slept lie lay listen listened talk talked
    give gave plan planned agree hurt""".split())

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)*|\.\.\.|…|[.?!,;:\"-]")
_SENTENCE_END = frozenset(".?!")


def step_group(step: str | None) -> str:
    return STEP_GROUPS.get(step or "", "other")


def word_class(word: str) -> str:
    if word in FILLERS:
        return "filler"
    if word in SUBORDINATORS:
        return "sub"
    if word in CONJUNCTIONS:
        return "conj"
    if word in RELATIVES:
        return "rel"
    if word in PREPOSITIONS:
        return "prep"
    if word in DETERMINERS:
        return "det"
    if word in SUBJECTS:
        return "subj"
    if word in AUXILIARIES:
        return "aux"
    if word in INTENSIFIERS:
        return "intens"
    if word in VERBS or word.endswith("ed"):
        return "verb"
    if word.endswith("ing"):
        return "ing"
    if word.endswith("ly"):
        return "ly"
    return "w"


def tokens(text: str) -> list[str]:
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"')
    return _TOKEN.findall(text.replace("\u201d", '"'))


def sentences(toks: list[str]) -> list[list[str]]:
    """The words of each sentence (punctuation other than commas dropped; a comma is kept
    as "," so that clause boundaries stay visible)."""
    out: list[list[str]] = [[]]
    for tok in toks:
        if tok in _SENTENCE_END:
            if out[-1]:
                out.append([])
        elif tok not in ('"', "-", ";", ":", "...", "…"):
            out[-1].append(tok)
    return [s for s in out if s] or [[]]


def _bucket(n: int, edges: tuple[int, ...]) -> str:
    for edge in edges:
        if n <= edge:
            return str(edge)
    return f">{edges[-1]}"


def _has_verb(words: list[str]) -> bool:
    return any(w in AUXILIARIES or w in VERBS or w.endswith("ed") or "'" in w and not w.endswith("'s")
               for w in words)


def features(text: str, step: str | None) -> list[str]:
    """The features of the words so far `text` at step `step` (duplicates removed)."""
    group = step_group(step)
    toks = tokens(text)
    sents = sentences(toks)
    last = sents[-1]
    words = [t for t in last if t != ","]
    all_words = [t for t in toks if t[0].isalnum()]
    end = toks[-1] if toks else ""
    end_kind = {".": "period", "?": "question", "!": "bang", ",": "comma", "...": "dots",
                "…": "dots", "-": "dash", ";": "comma", ":": "comma", '"': "quote"}.get(end, "none")
    feats = ["bias", f"g={group}", f"s={step or ''}", f"end={end_kind}", f"g={group}|end={end_kind}"]
    if not all_words:
        return feats + ["empty"]
    w1 = all_words[-1]
    w2 = all_words[-2] if len(all_words) > 1 else "<s>"
    w3 = all_words[-3] if len(all_words) > 2 else "<s>"
    c1, c2 = word_class(w1), word_class(w2) if w2 != "<s>" else "<s>"
    feats += [f"w1={w1}", f"w2={w2}", f"w21={w2}_{w1}", f"w321={w3}_{w2}_{w1}",
              f"c1={c1}", f"c2={c2}", f"c21={c2}_{c1}", f"g={group}|c1={c1}",
              f"g={group}|w1={w1}", f"end={end_kind}|c1={c1}"]
    # The last sentence: its length, its first words, an open subordinate clause.
    n_sent = len(sents) if words else len(sents) - 1
    n_sent = max(1, n_sent)
    first = [t for t in last if t != ","][:2]
    while first and first[0] in CONJUNCTIONS | FILLERS and len(words) > 2:
        words = words[1:]
        first = words[:2]
    feats += [f"nsent={_bucket(n_sent, (1, 2, 3))}", f"g={group}|nsent={_bucket(n_sent, (1, 2, 3))}",
              f"lslen={_bucket(len(words), (1, 2, 3, 5, 8, 12, 20))}",
              f"g={group}|lslen={_bucket(len(words), (2, 5, 10))}",
              f"nwords={_bucket(len(all_words), (3, 6, 10, 16, 25, 40))}"]
    if first:
        head = "_".join(first)
        feats += [f"ls1={first[0]}", f"ls2={head}", f"g={group}|ls2={head}",
                  f"ls2={head}|nsent={_bucket(n_sent, (1, 2))}"]
    if words and words[0] in SUBORDINATORS:
        main = "," in last[last.index(words[0]):] if words[0] in last else False
        feats.append("sub_open" if not main else "sub_main")
    # Since the last clause opener (conjunction, subordinator, relative, comma): its length
    # and whether it has a verb yet ("and my phone |" has none).
    since: list[str] = []
    for tok in reversed(last):
        if tok == "," or tok in CONJUNCTIONS or tok in SUBORDINATORS or tok in RELATIVES:
            opener = "comma" if tok == "," else word_class(tok)
            break
        since.insert(0, tok)
    else:
        opener = "start"
    feats += [f"open={opener}|n={_bucket(len(since), (0, 1, 2, 3, 5))}",
              f"open={opener}|verb={_has_verb(since)}",
              f"g={group}|open={opener}|verb={_has_verb(since)}"]
    if text.count('"') % 2 or text.count("\u201c") > text.count("\u201d"):
        feats.append("quote_open")
    return list(dict.fromkeys(feats))
