"""Session record: one JSON Lines file per session, each event appended and flushed as it happens.

A line is a `facilitator.schema` event's `to_dict()`. Internal signals (`facilitator.signals`,
and the old dict ones whose type starts with "_") are never written. Plain dict events are
still written as they are, until every publisher sends the typed events.
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import datetime, timezone
from pathlib import Path

from facilitator.events import AnyEvent, Event
from facilitator.paths import create_private
from facilitator.schema import RecordEvent, SessionEvent
from facilitator.signals import Signal


def default_data_dir(configured: str = "") -> Path:
    """(Kept for callers not yet moved to `facilitator.paths.data_dir`.)"""
    from facilitator.paths import data_dir

    return data_dir(configured)


class RecordExists(Exception):
    """The record file already holds a session (a new session never appends to it)."""


def new_session_id() -> str:
    """Time of day to the second plus a random suffix: sorts by time, never shared."""
    return f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


class RecordWriteError(Exception):
    """The record could not be written (disk full, file too large, device gone)."""


class RecordWriter:
    """Appends events to the record file; every line is flushed and synced to disk.

    A new record is created exclusively (0600, in a 0700 folder): an existing file raises
    `RecordExists`. `append=True` is for `resume`, which continues an existing record."""

    def __init__(self, path: Path, sync: bool = True, append: bool = False):
        self.path = Path(path)
        try:
            self._file = create_private(self.path, append=append)
        except FileExistsError:
            raise RecordExists(
                f"{self.path} already holds a session record; give another --record path, "
                f"or continue that session with `facilitator resume --record {self.path}`"
            ) from None
        self.sync = sync
        self.failed: OSError | None = None
        self._good_size = self._file.tell()

    def __call__(self, event: AnyEvent) -> None:
        self.write(event)

    def write(self, event: AnyEvent) -> None:
        if isinstance(event, Signal) or self._file.closed or self.failed:
            return
        if isinstance(event, RecordEvent):
            event = event.to_dict()
        elif str(event.get("type", "")).startswith("_"):
            return
        line = json.dumps(event, ensure_ascii=False) + "\n"
        try:
            self._file.write(line)
            self._file.flush()
            if self.sync:
                os.fsync(self._file.fileno())
        except OSError as error:
            self.failed = error
            self._cut_back()
            raise RecordWriteError(
                f"the session record {self.path} could not be written ({error.strerror or error}); "
                "everything up to this moment is saved in it. Free some disk space (or pick "
                "another place with --record) and continue with `facilitator resume`") from None
        self._good_size += len(line.encode("utf-8"))

    def _cut_back(self) -> None:
        """A line only partly written is cut off, so that every line stays valid JSON."""
        try:
            os.ftruncate(self._file.fileno(), self._good_size)
        except OSError:
            pass

    def close(self) -> None:
        if not self._file.closed:
            try:
                self._file.close()
            except OSError:      # the buffered tail could not be flushed: keep the good lines
                try:
                    os.truncate(self.path, self._good_size)
                except OSError:
                    pass


def new_session_event(session_id: str, names: dict[str, str], script: str, input_name: str,
                      mode: str | None = None) -> SessionEvent:
    """A record's first line, started now."""
    return SessionEvent(t=0.0, id=session_id,
                        started=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                        names=dict(names), script=script, input=input_name, mode=mode)


def session_event(session_id: str, names: dict[str, str], script: str, input_name: str) -> Event:
    """(The dict form of `new_session_event`, for callers not yet publishing typed events.)"""
    return new_session_event(session_id, names, script, input_name).to_dict()
