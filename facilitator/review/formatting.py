"""Wording shared by the report and the history: times, shares, titles, endings."""

from __future__ import annotations

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


def end(session: Session) -> str:
    return {
        None: "record ends without an end (interrupted?)",
        "complete": "completed",
        "stopped": "stopped early",
        "device_lost": "microphone lost",
        "error": "ended by an error",
    }.get(session.end_reason, str(session.end_reason))
