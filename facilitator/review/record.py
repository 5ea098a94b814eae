"""Reading session records: JSON Lines files, one event per line, appended as they happen.

A record may end in a torn line (the program died mid-write) or contain blank lines; a
line damaged in the middle (a disk error, a hand edit) should not lose the rest either.
Such lines are skipped, but never silently: `read_record` returns the events as a list
that also says which lines it left out (`damaged`, `torn`), and `skipped_note` words it.

The list holds the lines as they are (dicts: `resume` reads them back that way); its
`typed()` gives them as the record's types (`facilitator.schema`), which is how the
review's analysis reads them. A line of a type the schema does not know is not damaged:
it is kept, and passed over by `typed()`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from facilitator import paths, schema
from facilitator.schema import RecordEvent

Event = dict[str, Any]

SHOWN_LINES = 10   # line numbers listed in a note before "..."


class Events(list):
    """The events of a record, in order, and the line numbers (from 1) that were skipped.

    `torn`: lines cut short by a crash: the last line of the file, or a bad line just
    before a `resume` event (a resumed session ends the torn line and appends after it).
    `damaged`: every other line that is not a JSON object with a string "type".
    """

    def __init__(self, events: list[Event] = (), damaged: list[int] | None = None,
                 torn: list[int] | None = None) -> None:
        super().__init__(events)
        self.damaged: list[int] = list(damaged or [])
        self.torn: list[int] = list(torn or [])

    @property
    def skipped(self) -> int:
        """How many non-blank lines were left out, torn ones included."""
        return len(self.damaged) + len(self.torn)

    @property
    def has_session(self) -> bool:
        return any(_kind(event) == "session" for event in self)

    def typed(self) -> list[RecordEvent]:
        """The events as the record's types, in order; lines of unknown types left out."""
        parsed = (schema.parse(event) for event in self)
        return [event for event in parsed if event is not None]


def _kind(event: Event | RecordEvent) -> Any:
    return event.type if isinstance(event, RecordEvent) else event.get("type")


def _event(line: bytes) -> Event | None:
    try:
        event = json.loads(line.decode("utf-8", errors="replace"))
    except json.JSONDecodeError:
        return None
    if isinstance(event, dict) and isinstance(event.get("type"), str):
        return event
    return None


def read_record(path: str | Path) -> Events:
    """Return the events of a record in order, skipping blank and damaged lines.

    The result is a list of event dicts (an `Events`) that also records the line numbers
    of what it skipped. Raises OSError (FileNotFoundError, ...) when the file cannot be read.
    """
    with open(path, "rb") as handle:
        data = handle.read()
    events: list[Event] = []
    bad: list[tuple[int, int]] = []          # (line number, index of the event after it)
    numbered = [(number, raw.strip()) for number, raw in enumerate(data.split(b"\n"), start=1)]
    numbered = [(number, line) for number, line in numbered if line]
    for number, line in numbered:
        event = _event(line)
        if event is None:
            bad.append((number, len(events)))
        else:
            events.append(event)
    last = numbered[-1][0] if numbered else 0
    damaged, torn = [], []
    for number, following in bad:
        resumed_after = following < len(events) and events[following].get("type") == "resume"
        (torn if number == last or resumed_after else damaged).append(number)
    return Events(events, damaged, torn)


def _lines(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:SHOWN_LINES])
    more = ", ..." if len(numbers) > SHOWN_LINES else ""
    return f"line{'s' if len(numbers) > 1 else ''} {shown}{more}"


def skipped_note(events: Events, path: str | Path) -> str | None:
    """One sentence for stderr about lines left out of `path`, or None when none were.

    Damaged lines are named by number; a torn last line, which any crash can leave, is
    mentioned gently."""
    notes = []
    if events.damaged:
        count = len(events.damaged)
        notes.append(f"skipped {count} damaged line{'s' if count > 1 else ''} "
                     f"({_lines(events.damaged)}) that are not session events")
    if events.torn:
        notes.append(f"left out {'a line' if len(events.torn) == 1 else f'{len(events.torn)} lines'} "
                     f"cut short when the program stopped mid-write ({_lines(events.torn)}); "
                     "that is normal after a crash or power cut")
    if not notes:
        return None
    return f"Note: {path}: " + "; ".join(notes) + "."


def no_session_problem(events: list[Event] | list[RecordEvent], path: str | Path) -> str | None:
    """Why `path` cannot be reported on, with what to do instead; None when it holds a session."""
    if any(_kind(event) == "session" for event in events):
        return None
    if not events and not getattr(events, "skipped", 0):
        what = "it is empty"
    elif not events:
        what = "it is not a session record (no line of it is a session event)"
    else:
        what = "it is not a session record (it has no 'session' line naming the session)"
    return (f"{path} holds no session: {what}. Give a record a session wrote "
            "(<data dir>/sessions/<id>.jsonl); `facilitator history` lists them.")


def sessions_dir(directory: str | Path | None = None, configured: str | Path | None = "") -> Path:
    """The folder of `<id>.jsonl` records: the given one, or `<data dir>/sessions`.

    With no folder given the data dir follows facilitator.paths (`$FACILITATOR_DATA_DIR`,
    else `configured`, the config's `[session] data_dir`, else the platform's). A given
    folder that has a `sessions/` sub-folder and no records of its own is taken to be a
    data dir.
    """
    if directory is None or str(directory) == "":
        return paths.sessions_dir(configured)
    path = Path(directory).expanduser()
    if (path / "sessions").is_dir() and not any(path.glob("*.jsonl")):
        return path / "sessions"
    return path


def list_records(directory: str | Path | None = None) -> list[Path]:
    """The `.jsonl` records in a sessions folder, oldest name first (ids sort by time); a
    simulated session's `<id>.played.jsonl` (the lines it played) is not a record."""
    folder = sessions_dir(directory)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.jsonl") if p.is_file() and not p.name.endswith(".played.jsonl"))
