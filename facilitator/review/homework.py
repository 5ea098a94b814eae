"""Homework for the week after: suggestions from prompts/homework.toml chosen by weak spots."""

from __future__ import annotations

import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from facilitator import prompts

HOMEWORK_FILE = prompts.resource("homework.toml")


@dataclass(frozen=True)
class Homework:
    weakness: str      # the weak spot it helps with ("because", "appreciations", ...)
    title: str
    text: str


def load_homework(path: str | Path | None = None) -> list[Homework]:
    """The entries of homework.toml in file order; an empty list if the file is missing."""
    path = Path(path) if path else HOMEWORK_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    entries = data.get("homework", [])
    if not isinstance(entries, list):
        raise ValueError(f"{path}: [[homework]] should be a list of tables")
    result = []
    for index, entry in enumerate(entries, start=1):
        try:
            result.append(Homework(str(entry["for"]), str(entry["title"]), " ".join(str(entry["text"]).split())))
        except (KeyError, TypeError):
            raise ValueError(f"{path}: homework entry {index} needs 'for', 'title' and 'text'") from None
    return result


def suggest(weak_spots: Iterable[Sequence[str]], catalogue: Sequence[Homework], limit: int = 3) -> list[Homework]:
    """Pick up to `limit` entries for the weak spots of some sessions, most frequent first.

    `weak_spots` holds one list of weak spots per session; an entry for "general" is used
    when no other entry fits.
    """
    counts: Counter[str] = Counter()
    for spots in weak_spots:
        counts.update(set(spots))
    order = {entry.weakness: index for index, entry in enumerate(catalogue)}
    ranked = sorted((w for w in counts if w in order), key=lambda w: (-counts[w], order[w]))
    chosen: list[Homework] = []
    for weakness in ranked:
        chosen.extend(e for e in catalogue if e.weakness == weakness and e not in chosen)
    if not chosen:
        chosen = [e for e in catalogue if e.weakness == "general"]
    return chosen[:limit]
