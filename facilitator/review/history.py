"""Past sessions side by side, per couple: key numbers, first-try mirror success, homework.

Sessions are grouped by the couple's names (the `names` of the `session` event), so two
couples sharing a computer each get their own table and homework. Demo sessions (the
`session` event's `input` is "demo") are kept apart: left out unless asked for, and then
in a group of their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from facilitator.paths import write_private
from facilitator.review import formatting as fmt
from facilitator.review import plots
from facilitator.review.analysis import Session, analyse
from facilitator.review.homework import Homework, load_homework, suggest
from facilitator.review.record import list_records, no_session_problem, read_record, skipped_note
from facilitator.review.report import STYLE

RECENT = 3   # homework is chosen from the weak spots of this many latest sessions


@dataclass
class HistoryEntry:
    path: Path
    session: Session
    note: str | None = None       # lines of the record that were skipped, in words

    @property
    def demo(self) -> bool:
        return self.session.input == "demo"

    @property
    def couple_key(self) -> tuple[tuple[str, ...], bool]:
        """Who the session was of, whichever partner was A: their names, and demo or not."""
        names = sorted(name.strip().casefold() for name in self.session.names.values())
        return tuple(names), self.demo


@dataclass
class Scan:
    """What a sessions folder holds: the sessions, and the records that hold none."""

    entries: list[HistoryEntry] = field(default_factory=list)
    left_out: list[tuple[Path, str]] = field(default_factory=list)   # (record, why)

    @property
    def notes(self) -> list[str]:
        """Sentences for stderr: damaged lines skipped, records that hold no session."""
        found = [e.note for e in self.entries if e.note]
        found += [f"Note: left out {path}: {why}." for path, why in self.left_out]
        return found


@dataclass
class Couple:
    """One couple's sessions, oldest first, and the homework their latest ones suggest."""

    title: str
    demo: bool
    entries: list[HistoryEntry]
    homework: list[Homework]

    @property
    def heading(self) -> str:
        count = len(self.entries)
        demo = " (demo)" if self.demo else ""
        analysed = sum(e.session.analysed for e in self.entries)
        recorded = f" ({analysed} analysed from a recording)" if analysed else ""
        return f"{self.title}{demo}: {count} session{'s' if count != 1 else ''}{recorded}"

    def matches(self, wanted: str) -> bool:
        """Whether `wanted` names this couple ("Alex & Sam", "Sam & Alex") or one partner."""
        wanted = " ".join(wanted.split()).casefold()
        names = [" ".join(n.split()).casefold() for n in self.entries[-1].session.names.values()]
        together = {" & ".join(names), " & ".join(reversed(names)), " and ".join(names),
                    " and ".join(reversed(names))}
        return wanted in together or wanted in names


def _started(entry: HistoryEntry) -> tuple[float, str]:
    session = entry.session
    return (session.started.timestamp() if session.started else 0.0, session.id)


def scan_history(directory: str | Path | None = None) -> Scan:
    """Every record in a sessions folder, oldest first, with what was skipped and why."""
    scan = Scan()
    for path in list_records(directory):
        try:
            events = read_record(path)
        except OSError as error:
            scan.left_out.append((path, f"it cannot be read ({error.strerror or error})"))
            continue
        problem = no_session_problem(events, path)
        if problem:
            if events or events.skipped:      # an empty file is a session that never began
                scan.left_out.append((path, "it holds no session (not a session record)"))
            continue
        scan.entries.append(HistoryEntry(path, analyse(events, fallback_id=path.stem),
                                         skipped_note(events, path.name) if events.damaged else None))
    scan.entries.sort(key=_started)
    return scan


def load_history(directory: str | Path | None = None, limit: int | None = None) -> list[HistoryEntry]:
    """Sessions in a folder, oldest first (by start time, then by id); at most `limit` latest."""
    entries = scan_history(directory).entries
    return entries[-limit:] if limit else entries


def homework_for(entries: list[HistoryEntry]) -> list[Homework]:
    return suggest([e.session.weaknesses() for e in entries[-RECENT:]], load_homework())


def by_couple(entries: list[HistoryEntry], demos: bool = False, couple: str | None = None,
              limit: int | None = None) -> tuple[list[Couple], int]:
    """Group sessions by couple (oldest first within each; couples by their latest session).

    Demo sessions are left out unless `demos`; `couple` keeps only the couple it names;
    `limit` keeps each couple's latest N. Returns the couples and how many demo sessions
    were left out."""
    hidden = 0 if demos else sum(e.demo for e in entries)
    groups: dict[tuple, list[HistoryEntry]] = {}
    for entry in entries:
        if entry.demo and not demos:
            continue
        groups.setdefault(entry.couple_key, []).append(entry)
    result = []
    for members in groups.values():
        members.sort(key=_started)
        shown = members[-limit:] if limit else members
        result.append(Couple(fmt.title(members[-1].session), members[0].demo, shown, homework_for(members)))
    if couple:
        result = [c for c in result if c.matches(couple)]
    result.sort(key=lambda c: (c.demo, -_started(c.entries[-1])[0], c.title))
    return result, hidden


def demo_note(hidden: int) -> str:
    return f"{hidden} demo session{'s' if hidden != 1 else ''} not shown (--demos to include)."


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
    header = (f"{'When':16}  {'Length':>10}  {'Mirrors':>7}  {'1st try':>7}  {'':10}  "
              f"{'Talk A/B':>9}  Ending")
    lines = [header, "-" * len(header)]
    for entry in entries:
        s = entry.session
        lines.append(
            f"{fmt.when(s):16}  {fmt.duration(s.duration):>10}  {len(s.mirrors):>7}  "
            f"{fmt.percent(s.first_try_rate):>7}  {_bar(s.first_try_rate)}  {_balance(s):>9}  {fmt.end(s)}")
    return "\n".join(lines)


def text_history(couples: list[Couple], hidden_demos: int = 0) -> str:
    """The terminal listing: per couple a heading, the table and the week's homework."""
    parts = []
    for couple in couples:
        part = [couple.heading, text_table(couple.entries)]
        if couple.homework:
            part.append(f"\nFor the week ahead ({couple.title}):")
            part += [f"  • {item.title}: {item.text}" for item in couple.homework]
        parts.append("\n".join(part))
    if hidden_demos:
        parts.append(demo_note(hidden_demos))
    return "\n\n".join(parts)


def _report_link(record: Path) -> str:
    report = record.with_suffix(".html")
    if report.exists():
        return f'<a href="{escape(report.name)}">report</a>'
    return f"<code>facilitator report {escape(record.name)}</code>"


def _couple_html(couple: Couple, number: int) -> str:
    entries = couple.entries
    labels = fmt.short_labels([e.session.started for e in entries])
    points = [(label, e.session.first_try_rate) for label, e in zip(labels, entries)
              if e.session.first_try_rate is not None]
    plot = (f"<figure>{plots.first_try_history_svg(points)}<figcaption>Share of mirrors that were "
            "right at the first try, one dot per session.</figcaption></figure>") if points else \
        "<p>No mirrors judged yet.</p>"
    rows = "".join(
        f"<tr><td>{escape(fmt.when(e.session))}</td>"
        f"<td>{escape(fmt.duration(e.session.duration))}</td><td>{len(e.session.mirrors)}</td>"
        f"<td>{escape(fmt.percent(e.session.first_try_rate))}</td><td>{escape(_balance(e.session))}</td>"
        f"<td>{escape(fmt.end(e.session))}</td><td>{_report_link(e.path)}</td></tr>"
        for e in reversed(entries))
    tips = "".join(f"<li><b>{escape(h.title)}</b><br>{escape(h.text)}</li>" for h in couple.homework)
    homework = (f"<h3>For the week ahead</h3><ul>{tips}</ul>") if tips else ""
    return f"""<section aria-labelledby=h-couple-{number}><h2 id=h-couple-{number}>{escape(couple.heading)}</h2>
<h3>Mirrors right at the first try</h3>{plot}
<h3>Sessions, latest first</h3>
<table><thead><tr><th scope=col>When</th><th scope=col>Length</th><th scope=col>Mirrors</th>
<th scope=col>First try</th><th scope=col>Talk A/B</th><th scope=col>Ending</th><th scope=col>Report</th></tr></thead>
<tbody>{rows}</tbody></table>
{homework}</section>"""


def render_html(couples: list[Couple], hidden_demos: int = 0) -> str:
    """The history page: for each couple a plot of first-try success, its sessions, homework."""
    body = "".join(_couple_html(c, n) for n, c in enumerate(couples, start=1)) or "<p>No sessions yet.</p>"
    note = f"<p class=meta>{escape(demo_note(hidden_demos))}</p>" if hidden_demos else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Imago Dialogue — history</title><style>{STYLE}</style></head>
<body><main><h1>Your sessions</h1>
{body}
{note}
</main></body></html>
"""


def write_html(folder: Path, couples: list[Couple], hidden_demos: int = 0) -> Path:
    """Write `history.html` in the sessions folder (0600, atomically); raises OSError."""
    return write_private(folder / "history.html", render_html(couples, hidden_demos))
