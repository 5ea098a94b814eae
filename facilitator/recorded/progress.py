"""Progress of `facilitator analyze` on the terminal: one bar per stage with the time left.

On a terminal (stderr a TTY) each stage (reading the recording, who spoke when,
transcribing and judging) is a rich progress bar with the share done and the time left; in
a pipe or a file it is a few plain lines (the stage, then every quarter). `Quiet` shows
nothing (for tests and callers of the pipeline).
"""

from __future__ import annotations

import sys
import time
from typing import Protocol, TextIO

STAGES = {
    "decode": "Reading the recording",
    "voices": "Who spoke when",
    "words": "Transcribing and judging",
}


class Progress(Protocol):
    def begin(self, stage: str) -> None: ...
    def update(self, stage: str, fraction: float) -> None: ...
    def done(self, stage: str) -> None: ...
    def close(self) -> None: ...


class Quiet:
    def begin(self, stage: str) -> None:
        pass

    def update(self, stage: str, fraction: float) -> None:
        pass

    def done(self, stage: str) -> None:
        pass

    def close(self) -> None:
        pass


class PlainLines:
    """A line when a stage begins, at each quarter, and when it is done (with its time)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self._quarter: dict[str, int] = {}
        self._began: dict[str, float] = {}

    def _say(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def begin(self, stage: str) -> None:
        self._quarter[stage] = 0
        self._began[stage] = time.monotonic()
        self._say(f"{STAGES.get(stage, stage)} ...")

    def update(self, stage: str, fraction: float) -> None:
        quarter = int(max(0.0, min(1.0, fraction)) * 4)
        if 0 < quarter < 4 and quarter > self._quarter.get(stage, 0):
            self._quarter[stage] = quarter
            spent = time.monotonic() - self._began.get(stage, time.monotonic())
            left = spent * (1 - fraction) / fraction if fraction > 0 else 0.0
            self._say(f"  {STAGES.get(stage, stage)}: {quarter * 25}% (about {left:.0f} s left)")

    def done(self, stage: str) -> None:
        spent = time.monotonic() - self._began.get(stage, time.monotonic())
        self._say(f"  {STAGES.get(stage, stage)}: done in {spent:.1f} s")

    def close(self) -> None:
        pass


class Bars:
    """rich progress bars on stderr, one per stage, with the time left."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (BarColumn, Progress as RichProgress, TaskProgressColumn,
                                   TextColumn, TimeElapsedColumn, TimeRemainingColumn)

        self._progress = RichProgress(
            TextColumn("{task.description:<26}"), BarColumn(), TaskProgressColumn(),
            TextColumn("left"), TimeRemainingColumn(), TextColumn("spent"), TimeElapsedColumn(),
            console=Console(stderr=True), transient=False)
        self._tasks: dict[str, int] = {}
        self._progress.start()

    def begin(self, stage: str) -> None:
        self._tasks[stage] = self._progress.add_task(STAGES.get(stage, stage), total=1000)

    def update(self, stage: str, fraction: float) -> None:
        if stage in self._tasks:
            self._progress.update(self._tasks[stage], completed=int(max(0.0, min(1.0, fraction)) * 1000))

    def done(self, stage: str) -> None:
        if stage in self._tasks:
            self._progress.update(self._tasks[stage], completed=1000)

    def close(self) -> None:
        self._progress.stop()


def for_terminal(stream: TextIO | None = None) -> Progress:
    """Bars when stderr is a terminal, plain lines otherwise."""
    stream = stream or sys.stderr
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    return Bars() if tty else PlainLines(stream)
