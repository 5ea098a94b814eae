"""Session record: one JSON Lines file per session, each event appended and flushed as it happens.

Events whose type starts with "_" are internal (timings for benchmarks, hints for the
simulated room) and are not written.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

from facilitator.events import Event


def default_data_dir(configured: str = "") -> Path:
    if configured:
        return Path(configured).expanduser()
    if os.environ.get("FACILITATOR_DATA_DIR"):
        return Path(os.environ["FACILITATOR_DATA_DIR"]).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("facilitator", appauthor=False))


def new_session_id() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S")


class RecordWriter:
    """Appends events to the record file; every line is flushed and synced to disk."""

    def __init__(self, path: Path, sync: bool = True):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "a", encoding="utf-8")
        self.sync = sync

    @classmethod
    def in_data_dir(cls, data_dir: Path, session_id: str) -> "RecordWriter":
        return cls(Path(data_dir) / "sessions" / f"{session_id}.jsonl")

    def __call__(self, event: Event) -> None:
        self.write(event)

    def write(self, event: Event) -> None:
        if str(event.get("type", "")).startswith("_") or self._file.closed:
            return
        self._file.write(json.dumps(event, ensure_ascii=False) + "\n")
        self._file.flush()
        if self.sync:
            os.fsync(self._file.fileno())

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


def session_event(session_id: str, names: dict[str, str], script: str, input_name: str) -> Event:
    return {
        "type": "session", "t": 0.0, "id": session_id,
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "names": names, "script": script, "input": input_name,
    }
