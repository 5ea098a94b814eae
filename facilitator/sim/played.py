"""What a simulated session played, beside its record: `<record>.played.jsonl`.

One JSON line per line of the session file the room played, written (flushed and synced,
readable by the user only, like the record) the moment it starts playing:
`{"index", "speaker", "step", "start", "end"}`, plus `"interrupt": {"speaker", "start",
"end"}` when the other partner talks over it. `index` is the line's 0-based position in the
file's `[[lines]]`; the times are on the input timeline, the one the record's turns use
(a resumed session goes on after the record's last time), so a session can be scored
against its script. Lines passed over (for a step the dialogue was not in) are not in it.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from facilitator.paths import create_private

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlayedLine:
    index: int
    speaker: str
    step: str | None
    start: float
    end: float
    interrupt: dict | None = None        # {"speaker", "start", "end"}: talked over from `start`

    def to_dict(self) -> dict:
        data = asdict(self)
        if self.interrupt is None:
            del data["interrupt"]
        return data


def played_path(record: str | os.PathLike) -> Path:
    """`x/r.jsonl` -> `x/r.played.jsonl` (a name without `.jsonl` keeps its whole name)."""
    record = Path(record)
    stem = record.name[:-len(".jsonl")] if record.name.endswith(".jsonl") else record.name
    return record.with_name(f"{stem}.played.jsonl")


class PlayedLog:
    """Appends `PlayedLine`s to the played file of `record` (a new session starts it afresh;
    `append` is for a resumed one)."""

    def __init__(self, record: str | os.PathLike, append: bool = False):
        self.path = played_path(record)
        if not append:
            self.path.unlink(missing_ok=True)     # left by an older session of that name
        self._file = create_private(self.path, append=True)

    def __call__(self, played: PlayedLine) -> None:
        if self._file.closed:
            return
        try:
            self._file.write(json.dumps(played.to_dict(), ensure_ascii=False) + "\n")
            self._file.flush()
            os.fsync(self._file.fileno())
        except OSError as error:       # the session goes on; only the script's timings are lost
            log.warning("cannot write %s (%s); the lines played are no longer noted",
                        self.path, error.strerror or error)
            self.close()

    def close(self) -> None:
        if not self._file.closed:
            try:
                self._file.close()
            except OSError:
                pass
