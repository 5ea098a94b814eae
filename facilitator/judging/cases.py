"""Labelled judging cases: read our hand-written .txt files and the shared .jsonl files.

Every case becomes a dict in the shared files' shape: {"id", "kind", "context", "reply",
"label", "group", "reason"}, where `group` ties together replies to the same Sender turn
(used to keep whole groups on one side of a train / held-out split) and `reason` names
what is wrong with a reply when its tag says so: `N[actor]: ...` (see REASONS), else "".
"""

from __future__ import annotations

import json
import re
from pathlib import Path

MIRROR_TAGS = {"M": "mirror", "P": "partial", "N": "not_mirror"}
STEP_TAGS = {
    "SC": ("summary", "complete"), "SP": ("summary", "partial"), "SN": ("summary", "not_summary"),
    "V+": ("validation", "valid"), "V-": ("validation", "not_valid"),
    "E+": ("empathy", "empathic"), "E-": ("empathy", "not_empathic"),
    "B+": ("sender_statement", "safe"), "B-": ("sender_statement", "blaming"),
}

REASONS = {
    # mirror / summary
    "actor", "negation", "added", "defend", "dropped_point", "dropped_feeling", "narrowed",
    "unswapped", "off_topic", "question_back", "exaggerated", "reason_changed",
    # validation / empathy
    "own_logic", "agree_only", "yes_but", "feeling_as_thought", "own_feeling", "question",
    # sender statements
    "name_calling", "sarcasm", "threat", "contempt_question", "contempt_feeling",
    "global_blame", "character_attack", "always_never", "mind_reading", "comparison",
}
_TAG = re.compile(r"^(?P<tag>[A-Z][A-Z+-]?)(?:\[(?P<reason>[a-z_]+)\])?$")


def read_txt(path: Path) -> list[dict]:
    """Parse one of data/judging/*_cases.txt (format described at the top of each file)."""
    cases: list[dict] = []
    context: list[str] = []
    group = 0
    stem = path.stem
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        raw_tag, _, text = line.partition(":")
        text = text.strip()
        match = _TAG.match(raw_tag.strip())
        tag, reason = (match["tag"], match["reason"] or "") if match else (raw_tag, "")
        if reason and reason not in REASONS:
            raise ValueError(f"{path}: unknown reason {reason!r} in line {line[:40]!r}")
        if tag in ("S", "C"):
            group += 1
            context = [t.strip() for t in text.split("|")] if tag == "C" else [text]
            continue
        n = len(cases) + 1
        if tag in MIRROR_TAGS:
            cases.append({"id": f"{stem}-{n:04d}", "kind": "mirror", "context": context,
                          "reply": text, "label": MIRROR_TAGS[tag], "group": f"{stem}-{group}",
                          "reason": reason})
        elif tag in STEP_TAGS:
            kind, label = STEP_TAGS[tag]
            ctx = [] if kind == "sender_statement" else context
            g = f"{stem}-b{n}" if kind == "sender_statement" else f"{stem}-{group}"
            cases.append({"id": f"{stem}-{n:04d}", "kind": kind, "context": ctx,
                          "reply": text, "label": label, "group": g, "reason": reason})
        else:
            raise ValueError(f"{path}: unknown tag {tag!r} in line {line[:40]!r}")
    return cases


def from_json_line(row: dict) -> dict:
    """One line of the shared .jsonl format ('kind' absent means a mirror)."""
    kind = row.get("kind", "mirror")
    context = [row["sender"]] if kind == "mirror" and "sender" in row else list(row.get("context", []))
    group = "|".join(context) if context else row.get("id", "")
    return {"id": row.get("id", ""), "kind": kind, "context": context, "reply": row.get("reply", ""),
            "label": row.get("label"), "group": group, "reason": row.get("reason", "")}


def read_jsonl(path: Path) -> list[dict]:
    with path.open() as f:
        return [from_json_line(json.loads(line)) for line in f if line.strip()]


def read_any(path: Path) -> list[dict]:
    return read_jsonl(path) if path.suffix == ".jsonl" else read_txt(path)
