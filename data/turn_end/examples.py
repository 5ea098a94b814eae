"""Training examples for the text end-of-turn model, built from the repository's own text.

Turns (text, step, group), each a whole turn someone would say at that step:
- data/judging/*_cases.txt: "S:" Sender turns and "B+/B-:" sender statements (send), "C:"
  rounds (each part a send turn, and all parts joined as one multi-sentence message),
  mirror replies "M/P/N:" (mirror), "SC/SP/SN:" (summary), "V+/V-:" (validate),
  "E+/E-:" (empathize);
- data/judging/transcripts.jsonl: tiny.en transcripts of those turns (Whisper's
  punctuation and slips), same step and group as the text they transcribe;
- prompts/demo_session.toml, examples/simulate.toml: every line with its step;
- data/turn_end/short_turns.txt: our own short and formulaic turns for the other steps,
  and short answers of the yes/no steps composed from heads and tails (`answer_turns`).
The turns the measurement uses (benchmarks/turn_end.py, benchmarks/latency_sessions.py)
are left out. /work/shared/data is never read.

Examples from each turn: the whole turn is "finished"; a prefix cut at a word boundary
mid-sentence is "unfinished" (weight 1 where people pause: after a conjunction, a
subordinator, a preposition, a relative, a determiner, a comma, between a subject and its
verb; 0.35 elsewhere); a prefix cut at a sentence boundary of a longer turn is "boundary".
Each text is written in one of the styles the live loop sees (as written, as Whisper
writes a prefix: capitalised with a full stop added, or bare lower case). Deterministic:
everything random comes from `random.Random(seed)`.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from facilitator.turn_end import features as F

ROOT = Path(__file__).resolve().parents[2]
TAG_STEPS = {"S": "send", "B+": "send", "B-": "send", "M": "mirror", "P": "mirror", "N": "mirror",
             "SC": "summary", "SP": "summary", "SN": "summary", "V+": "validate", "V-": "validate",
             "E+": "empathize", "E-": "empathize"}
PAUSE_CLASSES = {"conj", "sub", "prep", "rel", "det", "filler", "subj", "intens"}
_WORD = re.compile(r"[A-Za-z0-9]+(?:['\u2019][A-Za-z]+)*")


@dataclass(frozen=True)
class Turn:
    text: str
    step: str | None
    group: str          # turns sharing a group (a text and its transcripts) stay on one side of the split


@dataclass(frozen=True)
class Example:
    text: str
    step: str | None
    label: str          # "finished" | "boundary" | "unfinished"
    weight: float
    group: str
    kind: str           # "whole", "boundary", "pause" (a likely pause place), "other"


def norm(text: str) -> str:
    return " ".join(F.tokens(text.replace("|", " "))).replace(" ,", "").strip(" .?!")


def _key(text: str) -> str:
    return " ".join(w for w in F.tokens(text) if w[0].isalnum())


def held_out(group: str, parts: int = 5) -> bool:
    """One group in `parts` is held out (by a hash of the group, not by chance)."""
    return int(hashlib.md5(group.encode()).hexdigest(), 16) % parts == 0


def case_turns() -> list[Turn]:
    turns: list[Turn] = []
    for path in sorted((ROOT / "data" / "judging").glob("*_cases.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            tag, sep, text = line.partition(": ")
            if not sep or line.startswith("#") or not text.strip():
                continue
            if tag == "C":
                parts = [p.strip() for p in text.split("|") if p.strip()]
                group = _key(parts[0])
                turns += [Turn(p, "send", group) for p in parts]
                if len(parts) > 1:
                    turns.append(Turn(". ".join(parts), "send", group))
            elif tag in TAG_STEPS:
                turns.append(Turn(text.strip(), TAG_STEPS[tag], _key(text)))
    return turns


def session_turns() -> list[Turn]:
    turns = []
    for path in (ROOT / "prompts" / "demo_session.toml", ROOT / "examples" / "simulate.toml"):
        for line in tomllib.loads(path.read_text(encoding="utf-8")).get("lines", []):
            if line.get("text") and line.get("step"):
                text = re.sub(r"\s*\|\s*", " ", line["text"]).strip()
                turns.append(Turn(text, line["step"], _key(text)))
    return turns


def short_turns() -> list[Turn]:
    turns, step = [], None
    for line in (ROOT / "data" / "turn_end" / "short_turns.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            step = line[1:-1]
            continue
        turns.append(Turn(line, step, _key(line)))
    return turns


# Short answers of the yes/no steps, composed (a head, then an optional tail), so that the
# model learns that "Yes, exactly." is a whole turn there.
ANSWER_HEADS = ["Yes", "Yeah", "Yep", "No", "Exactly", "Right", "Sure", "Mm-hmm", "Mostly", "Not really"]
ANSWER_TAILS = {
    "confirm": ["", "you got it", "that's it", "that's right", "you did", "exactly", "that's what I said"],
    "summary_confirm": ["", "you got it all", "all of it", "that's everything", "that's a fair summary"],
    "empathy_confirm": ["", "that's how I feel", "that's it", "that's exactly it", "a little"],
    "more": ["", "that's all", "nothing more", "that's it for now", "I think that's everything"],
    "availability": ["", "I'm ready", "now is fine", "go ahead", "I'm listening"],
}


def answer_turns() -> list[Turn]:
    turns = []
    for step, tails in ANSWER_TAILS.items():
        for head in ANSWER_HEADS:
            for tail in tails:
                text = f"{head}, {tail}." if tail else f"{head}."
                turns.append(Turn(text, step, "answer:" + _key(text)))
    return turns


def transcript_turns(steps_by_key: dict[str, str | None], groups_by_key: dict[str, str]) -> list[Turn]:
    turns = []
    for line in (ROOT / "data" / "judging" / "transcripts.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        key = _key(row["text"])
        if row.get("transcript", "").strip():
            turns.append(Turn(row["transcript"].strip(), steps_by_key.get(key), groups_by_key.get(key, key)))
    return turns


def all_turns(exclude: set[str] = frozenset()) -> list[Turn]:
    """Every training turn, without those whose words are in `exclude` (normalised keys)."""
    base = case_turns() + session_turns() + short_turns() + answer_turns()
    steps_by_key = {_key(t.text): t.step for t in base}
    groups_by_key = {_key(t.text): t.group for t in base}
    turns = base + transcript_turns(steps_by_key, groups_by_key)
    seen, out = set(), []
    for turn in turns:
        marker = (_key(turn.text), turn.step, turn.text)
        if marker in seen or _key(turn.text) in exclude or turn.group in exclude:
            continue
        seen.add(marker)
        out.append(turn)
    return out


def style(text: str, rng: random.Random, prefix: bool) -> str:
    """`text` as the live loop may see it: as written, Whisper-like, or bare lower case."""
    roll = rng.random()
    text = text.strip()
    if roll < 0.4:
        return text
    if roll < 0.8:
        out = text[:1].upper() + text[1:]
        out = re.sub(r"\bi\b", "I", out)
        out = re.sub(r"\bi'(m|ve|d|ll)\b", r"I'\1", out)
        if out and out[-1] not in ".?!,":
            ending = rng.random()
            out += "." if ending < (0.75 if prefix else 0.85) else ("..." if prefix and ending < 0.82 else "")
        return out
    return re.sub(r"[^\w\s']", "", text.lower()).strip()


def cuts(turn: Turn, rng: random.Random) -> list[Example]:
    """The examples from one turn: itself (finished) and its prefixes (none for a composed
    short answer: nobody pauses a second after the "Yes" of "Yes, you got it")."""
    text = turn.text
    if turn.group.startswith("answer:"):
        return [Example(style(text, rng, False), turn.step, "finished", 1.0, turn.group, "whole")]
    spans = [m.span() for m in _WORD.finditer(text)]
    out = [Example(style(text, rng, False), turn.step, "finished", 1.0, turn.group, "whole"),
           Example(style(text, rng, False), turn.step, "finished", 0.5, turn.group, "whole")]
    pause, other = [], []
    for k in range(len(spans) - 1):
        end = spans[k][1]
        between = text[end:spans[k + 1][0]]
        word = text[spans[k][0]:end].lower().replace("\u2019", "'")
        nxt = text[spans[k + 1][0]:spans[k + 1][1]].lower()
        if any(c in between for c in ".?!"):
            prefix = text[:end] + between.strip()
            out.append(Example(style(prefix, rng, True), turn.step, "boundary", 1.0, turn.group, "boundary"))
            continue
        prefix = text[:end] + ("," if "," in between and rng.random() < 0.6 else "")
        cls = F.word_class(word)
        likely = (cls in PAUSE_CLASSES or "," in between
                  or (F.word_class(nxt) in ("verb", "aux") and cls not in ("aux", "verb")))
        (pause if likely else other).append(prefix)
    rng.shuffle(pause)
    rng.shuffle(other)
    for prefix in pause[:5]:
        out.append(Example(style(prefix, rng, True), turn.step, "unfinished", 1.0, turn.group, "pause"))
    for prefix in other[:2]:
        out.append(Example(style(prefix, rng, True), turn.step, "unfinished", 0.35, turn.group, "other"))
    return out


def examples(seed: int = 0, exclude: set[str] = frozenset()) -> list[Example]:
    rng = random.Random(seed)
    out: list[Example] = []
    for turn in all_turns(exclude):
        out += cuts(turn, rng)
    return out
