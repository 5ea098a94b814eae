"""Reading session records: JSON Lines files, one event per line, appended as they happen.

A record may end in a torn line (the program died mid-write) or contain blank lines;
both are skipped so a session can always be read back, resumed or reported.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

Event = dict[str, Any]



def read_record(path: str | Path) -> list[Event]:
    """Return the events of a record in order, tolerating a torn last line and blank lines.

    A line that is not a JSON object is skipped wherever it is; only the last line can be
    torn by a crash, but a damaged line in the middle should not lose the rest either.
    """
    events: list[Event] = []
    with open(path, "rb") as handle:
        data = handle.read()
    for raw in data.split(b"\n"):
        line = raw.strip()
        if not line:
            continue
        try:
            event = json.loads(line.decode("utf-8", errors="replace"))
        except json.JSONDecodeError:
            continue
        if isinstance(event, dict) and isinstance(event.get("type"), str):
            events.append(event)
    return events


def default_data_dir() -> Path:
    """Where session records live: $FACILITATOR_DATA_DIR, else the platform's data dir."""
    from facilitator.record import default_data_dir as data_dir

    return data_dir()


def sessions_dir(directory: str | Path | None = None) -> Path:
    """The folder of `<id>.jsonl` records: the given one, or `<data dir>/sessions`.

    A given folder that has a `sessions/` sub-folder is taken to be a data dir.
    """
    if directory is None or str(directory) == "":
        return default_data_dir() / "sessions"
    path = Path(directory).expanduser()
    if (path / "sessions").is_dir() and not any(path.glob("*.jsonl")):
        return path / "sessions"
    return path


def list_records(directory: str | Path | None = None) -> list[Path]:
    """The `.jsonl` records in a sessions folder, oldest name first (ids sort by time)."""
    folder = sessions_dir(directory)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.jsonl") if p.is_file())
