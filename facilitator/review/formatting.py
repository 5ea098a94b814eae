"""Wording shared by the report and the history: times, shares, titles, endings."""

from __future__ import annotations

from datetime import datetime
from typing import Sequence

from facilitator.review.analysis import Session


def clock(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}:{seconds % 60:02d}"


def duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def title(session: Session) -> str:
    names = [session.names[k] for k in ("A", "B") if k in session.names]
    return " & ".join(names) or session.id


def when(session: Session) -> str:
    return session.started.strftime("%Y-%m-%d %H:%M") if session.started else session.id


def short_labels(dates: Sequence[datetime | None]) -> list[str]:
    """Short labels for sessions, told apart however close: "01 Dec 14:05".

    The year is added when the sessions span more than one, seconds when two start in the
    same minute, and "#n" (the session's place) when even those are the same or unknown."""
    known = [d for d in dates if d]
    with_year = len({d.year for d in known}) > 1

    def label(d: datetime | None, pattern: str, index: int) -> str:
        return d.strftime(pattern) if d else f"#{index}"

    pattern = "%d %b %Y %H:%M" if with_year else "%d %b %H:%M"
    labels = [label(d, pattern, i) for i, d in enumerate(dates, start=1)]
    if len(set(labels)) < len(labels):
        labels = [label(d, pattern + ":%S", i) for i, d in enumerate(dates, start=1)]
    repeated = {text for text in labels if labels.count(text) > 1}
    return [f"{text} #{i}" if text in repeated else text for i, text in enumerate(labels, start=1)]


def end(session: Session) -> str:
    return {
        None: "record ends without an end (interrupted?)",
        "complete": "completed",
        "stopped": "stopped early",
        "device_lost": "microphone lost",
        "error": "ended by an error",
        "input_end": "the recording ended",
        "analysed": "analysed from a recording",
    }.get(session.end_reason, str(session.end_reason))
