"""The transcript as subtitles: WebVTT and SRT, one cue per turn, timed from session start."""

from __future__ import annotations

from pathlib import Path

from facilitator.paths import write_private
from facilitator.review.analysis import Session, Turn


def _clock(seconds: float, separator: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _cue_times(turn: Turn) -> tuple[float, float]:
    end = turn.end if turn.end > turn.start else turn.start + 1.0
    return turn.start, end


def _clean(text: str) -> str:
    """Cue text: one paragraph, no blank lines and no arrows that would end a cue early."""
    return " ".join(text.split()).replace("-->", "->")


def _escape_vtt(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_webvtt(session: Session) -> str:
    """WebVTT with a voice tag per cue (`<v Alex>`), so players can show who speaks."""
    lines = ["WEBVTT", f"NOTE Imago Dialogue session {session.id}", ""]
    for index, turn in enumerate(session.turns, start=1):
        start, end = _cue_times(turn)
        voice = _escape_vtt(session.name(turn.speaker)).replace(">", "")
        lines += [
            str(index),
            f"{_clock(start, '.')} --> {_clock(end, '.')}",
            f"<v {voice}>{_escape_vtt(_clean(turn.text))}",
            "",
        ]
    return "\n".join(lines)


def to_srt(session: Session) -> str:
    """SRT with the speaker's name before each cue's text."""
    blocks = []
    for index, turn in enumerate(session.turns, start=1):
        start, end = _cue_times(turn)
        blocks.append(
            f"{index}\n{_clock(start, ',')} --> {_clock(end, ',')}\n"
            f"{session.name(turn.speaker)}: {_clean(turn.text)}\n"
        )
    return "\n".join(blocks)


def write_subtitles(session: Session, base: Path) -> list[Path]:
    """Write `<base>.vtt` and `<base>.srt` (0600, atomically); return their paths."""
    vtt = base.with_suffix(".vtt")
    srt = base.with_suffix(".srt")
    write_private(vtt, to_webvtt(session))
    write_private(srt, to_srt(session))
    return [vtt, srt]
