"""Past sessions side by side: key numbers, first-try mirror success over time, homework."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from pathlib import Path

from facilitator.review import plots
from facilitator.review.analysis import Session, analyse
from facilitator.review.homework import Homework, load_homework, suggest
from facilitator.review.record import list_records, read_record
from facilitator.review import formatting as fmt
from facilitator.review.report import STYLE

RECENT = 3   # homework is chosen from the weak spots of this many latest sessions


@dataclass
class HistoryEntry:
    path: Path
    session: Session


def load_history(directory: str | Path | None = None, limit: int | None = None) -> list[HistoryEntry]:
    """Sessions in a folder, oldest first (by start time, then by id); at most `limit` latest."""
    entries = []
    for path in list_records(directory):
        try:
            events = read_record(path)
        except OSError:
            continue
        if not events:
            continue
        entries.append(HistoryEntry(path, analyse(events, fallback_id=path.stem)))
    entries.sort(key=lambda e: (e.session.started.timestamp() if e.session.started else 0.0, e.session.id))
    return entries[-limit:] if limit else entries


def homework_for(entries: list[HistoryEntry]) -> list[Homework]:
    return suggest([e.session.weaknesses() for e in entries[-RECENT:]], load_homework())


def _balance(session: Session) -> str:
    talk = session.talk_time()
    total = sum(talk.values())
    if not total:
        return "—"
    return " / ".join(f"{talk.get(k, 0.0) / total:.0%}" for k in ("A", "B"))


def _bar(rate: float | None, width: int = 10) -> str:
    if rate is None:
        return "·" * width
    filled = round(rate * width)
    return "█" * filled + "░" * (width - filled)


def text_table(entries: list[HistoryEntry]) -> str:
    """One line per session with its key numbers and a bar of first-try mirror success."""
    if not entries:
        return "No sessions yet."
    header = f"{'When':16}  {'Couple':22} {'Length':>10}  {'Mirrors':>7}  {'1st try':>7}  {'':10}  {'Talk A/B':>9}  Ending"
    lines = [header, "-" * len(header)]
    for entry in entries:
        s = entry.session
        lines.append(
            f"{fmt.when(s):16}  {fmt.title(s)[:22]:22} {fmt.duration(s.duration):>10}  {len(s.mirrors):>7}  "
            f"{fmt.percent(s.first_try_rate):>7}  {_bar(s.first_try_rate)}  {_balance(s):>9}  {fmt.end(s)}")
    return "\n".join(lines)


def _report_link(record: Path) -> str:
    report = record.with_suffix(".html")
    if report.exists():
        return f'<a href="{escape(report.name)}">report</a>'
    return f"<code>facilitator report {escape(record.name)}</code>"


def render_html(entries: list[HistoryEntry], homework: list[Homework]) -> str:
    """The history page: a plot of first-try success, the sessions table, homework."""
    points = [(e.session.started, e.session.first_try_rate) for e in entries
              if e.session.first_try_rate is not None]
    plot = (f"<figure>{plots.first_try_history_svg(points)}<figcaption>Share of mirrors that were "
            "right at the first try, one dot per session.</figcaption></figure>") if points else \
        "<p>No mirrors judged yet.</p>"
    rows = "".join(
        f"<tr><td>{escape(fmt.when(e.session))}</td><td>{escape(fmt.title(e.session))}</td>"
        f"<td>{escape(fmt.duration(e.session.duration))}</td><td>{len(e.session.mirrors)}</td>"
        f"<td>{escape(fmt.percent(e.session.first_try_rate))}</td><td>{escape(_balance(e.session))}</td>"
        f"<td>{escape(fmt.end(e.session))}</td><td>{_report_link(e.path)}</td></tr>"
        for e in reversed(entries))
    tips = "".join(f"<li><b>{escape(h.title)}</b><br>{escape(h.text)}</li>" for h in homework)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Imago Dialogue — history</title><style>{STYLE}</style></head>
<body><main><h1>Your sessions</h1>
<section aria-labelledby=h-trend><h2 id=h-trend>Mirrors right at the first try</h2>{plot}</section>
<section aria-labelledby=h-list><h2 id=h-list>Sessions, latest first</h2>
<table><thead><tr><th scope=col>When</th><th scope=col>Couple</th><th scope=col>Length</th><th scope=col>Mirrors</th>
<th scope=col>First try</th><th scope=col>Talk A/B</th><th scope=col>Ending</th><th scope=col>Report</th></tr></thead>
<tbody>{rows}</tbody></table></section>
{f'<section aria-labelledby=h-homework><h2 id=h-homework>For the week ahead</h2><ul>{tips}</ul></section>' if tips else ''}
</main></body></html>
"""
