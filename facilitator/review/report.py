"""The session report: one self-contained HTML file beside the record, and a text summary.

The HTML holds its styles and plots inline (SVG drawn by matplotlib), so it opens from
a USB stick or an e-mail with nothing fetched from anywhere.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from html import escape
from pathlib import Path

from facilitator.review import formatting as fmt
from facilitator.review import plots
from facilitator.review.analysis import Exchange, Session, analyse
from facilitator.review.exports import write_subtitles
from facilitator.paths import write_private
from facilitator.review.homework import Homework, load_homework, suggest
from facilitator.review.record import Events, no_session_problem, read_record
from facilitator.review.steps import step_title

KIND_TITLES = {
    "mirror": "Mirror",
    "summary": "Summary",
    "validation": "Validation",
    "empathy": "Empathy",
    "sender_statement": "Sender statement",
}

STYLE = """
:root { color-scheme: light dark; --fg:#1b1b1b; --bg:#fdfdfb; --muted:#555; --ok:#17663a; --no:#a3261b; --line:#ddd; }
@media (prefers-color-scheme: dark) { :root { --fg:#f2f2f2; --bg:#161616; --muted:#bbb; --ok:#6fd08f; --no:#ff8a7a; --line:#444; }
  svg { background:#fff; border-radius:6px; } }
body { font: 18px/1.5 system-ui, sans-serif; color:var(--fg); background:var(--bg); max-width:60rem; margin:2rem auto; padding:0 1rem; }
h1 { font-size:2rem; margin-bottom:0.2rem; } h2 { margin-top:2.2rem; border-bottom:2px solid var(--line); }
.meta { color:var(--muted); }
.numbers { display:grid; grid-template-columns:repeat(auto-fit,minmax(11rem,1fr)); gap:0.8rem; padding:0; list-style:none; }
.numbers li { border:1px solid var(--line); border-radius:8px; padding:0.6rem 0.8rem; min-width:0; overflow-wrap:anywhere; }
.numbers b { display:block; font-size:1.6rem; }
.numbers li.words b { font-size:1.1rem; line-height:1.3; hyphens:auto; }
table { border-collapse:collapse; width:100%; } th, td { text-align:left; vertical-align:top; padding:0.35rem 0.5rem; border-bottom:1px solid var(--line); }
.ok { color:var(--ok); font-weight:600; } .no { color:var(--no); font-weight:600; }
figure { margin:1rem 0; } figure svg { width:100%; height:auto; } figcaption { color:var(--muted); }
.speaker-A { border-left:6px solid #1f6fb2; } .speaker-B { border-left:6px solid #c25e00; } .speaker-\\? { border-left:6px solid #6b6b6b; }
@media print { body { margin:0; } h2 { break-after:avoid; } }
"""


class ReportError(ValueError):
    """The report cannot be made as asked; the message says why and what to do."""


class NoSession(ReportError):
    """The record holds no session to report on (empty, or not a session record)."""


@dataclass
class ReportFiles:
    html: Path
    subtitles: list[Path]


def _pair(session: Session, exchange: Exchange) -> str:
    if exchange.kind == "sender_statement":
        return session.name(exchange.sender)
    return f"{session.name(exchange.receiver)} → {session.name(exchange.sender)}"


def _steps_by_round(session: Session) -> list[tuple[int, str, list[str]]]:
    rounds: dict[int, tuple[str, list[str]]] = {}
    for visit in session.steps:
        who = f"{session.name(visit.sender)} sends, {session.name(visit.receiver)} receives"
        mark = {"done": "✓", "skipped": "skipped", "unfinished": "unfinished"}[visit.status]
        title = step_title(visit.name, session.script)
        label = title if visit.status == "done" else f"{title} ({mark})"
        rounds.setdefault(visit.round, (who, []))[1].append(label)
    return [(r, who, names) for r, (who, names) in sorted(rounds.items())]


def text_summary(session: Session, homework: list[Homework] | None = None) -> str:
    """A short plain-text summary for the terminal."""
    lines = [f"Session {session.id} — {fmt.title(session)} — {fmt.when(session)} — "
             f"{fmt.duration(session.duration)} — {fmt.end(session)}"]
    talk = session.talk_time()
    total = sum(talk.values()) or 1.0
    counts = session.turn_counts()
    lines.append("Talk time: " + ", ".join(
        f"{session.name(k)} {fmt.clock(v)} ({v / total:.0%}, {counts.get(k, 0)} turns)"
        for k, v in talk.items() if v or k != "?"))
    mirrors = session.mirrors
    if mirrors:
        firsts = sum(m.first_try for m in mirrors)
        lines.append(f"Mirrors: {len(mirrors)}; right first try {firsts}/{len(mirrors)} "
                     f"({fmt.percent(session.first_try_rate)}); {session.mean_tries:.1f} tries on average")
    else:
        lines.append("Mirrors: none judged")
    for exchange in session.exchanges:
        if not exchange.attempts:
            continue
        final = exchange.attempts[exchange.tries - 1]
        missed = f"; missed: {', '.join(exchange.missed)}" if exchange.missed else ""
        flag = " (coach override)" if any(a.overridden for a in exchange.attempts) else ""
        lines.append(f"  Round {exchange.round} {KIND_TITLES.get(exchange.kind, exchange.kind).lower()}, "
                     f"{_pair(session, exchange)}: {final.label}{flag} after {exchange.tries} "
                     f"{'try' if exchange.tries == 1 else 'tries'}{missed}")
    for round_, who, names in _steps_by_round(session):
        lines.append(f"Round {round_} ({who}): {', '.join(names)}")
    if session.interruptions:
        lines.append(f"Interruptions: {len(session.interruptions)}")
    for title in (h.title for h in homework or []):
        lines.append(f"Homework: {title}")
    return "\n".join(lines)


def _numbers_html(session: Session) -> str:
    talk = session.talk_time()
    total = sum(talk.values()) or 1.0
    # (name, value, whether the value is words rather than a number: set smaller, wrapped)
    items = [("Length", fmt.duration(session.duration), False), ("Ending", fmt.end(session), True)]
    for key, seconds in talk.items():
        if seconds or key != "?":
            items.append((f"{session.name(key)} spoke", f"{fmt.clock(seconds)} ({seconds / total:.0%})", False))
    items += [
        ("Mirrors", str(len(session.mirrors)), False),
        ("Right first try", fmt.percent(session.first_try_rate), False),
        ("Steps done", str(len(session.steps_done())), False),
        ("Interruptions", str(len(session.interruptions)), False),
    ]
    return "<ul class=numbers>" + "".join(
        f"<li{' class=words' if words else ''}>{escape(name)}<b>{escape(value)}</b></li>"
        for name, value, words in items) + "</ul>"


def _why(reason: str, detail: dict[str, str]) -> str:
    """What the judge said was wrong, with the words it quoted: '<br>why: actor (said "...")'."""
    if not reason:
        return ""
    words = "; ".join(f"{name} <q>{escape(value)}</q>" for name, value in detail.items()
                      if name in ("said", "heard", "feeling", "part"))
    return f"<br>why: {escape(reason.replace('_', ' '))}" + (f" ({words})" if words else "")


def _verdicts_html(session: Session) -> str:
    if not session.exchanges:
        return "<p>No verdicts were recorded.</p>"
    rows = []
    for exchange in session.exchanges:
        if not exchange.attempts:
            continue
        tries = []
        for attempt in exchange.attempts:
            cls = "ok" if attempt.passed else "no"
            score = "" if attempt.score is None else f" {attempt.score:.2f}"
            override = (f" <small>(coach changed it from {escape(attempt.original_label)})</small>"
                        if attempt.original_label else "")
            missing = f"<br>missed: {escape(', '.join(attempt.missing))}" if attempt.missing else ""
            missing += _why(attempt.reason, attempt.detail)
            said = f"<br><q>{escape(attempt.reply)}</q>" if attempt.reply else ""
            tries.append(f"<li><span class={cls}>{escape(attempt.label)}</span>{score}{override}{missing}{said}</li>")
        result = "ok" if exchange.passed else "no"
        rows.append(
            f"<tr><td>{exchange.round}</td><td>{escape(KIND_TITLES.get(exchange.kind, exchange.kind))}</td>"
            f"<td>{escape(_pair(session, exchange))}</td>"
            f"<td class={result}>{'passed' if exchange.passed else 'not yet'}</td><td>{exchange.tries}</td>"
            f"<td>{escape(', '.join(exchange.missed)) or '—'}</td><td><ol>{''.join(tries)}</ol></td></tr>")
    return ("<table><thead><tr><th scope=col>Round</th><th scope=col>Step</th><th scope=col>Who (receiver → sender)</th>"
            "<th scope=col>Result</th><th scope=col>Tries</th><th scope=col>Missed</th>"
            "<th scope=col>Each try</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")


def _transcript_html(session: Session) -> str:
    if not session.turns:
        return "<p>No turns were recorded.</p>"
    rows = "".join(
        f"<tr class='speaker-{escape(t.speaker)}'><td>{fmt.clock(t.start)}</td>"
        f"<th scope=row>{escape(session.name(t.speaker))}</th>"
        f"<td>{escape(step_title(t.step, session.script))}</td><td>{escape(t.text)}</td></tr>"
        for t in session.turns)
    return ("<table><thead><tr><th scope=col>Time</th><th scope=col>Who</th><th scope=col>Step</th>"
            f"<th scope=col>What was said</th></tr></thead><tbody>{rows}</tbody></table>")


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>"


def render_html(session: Session, homework: list[Homework] | None = None) -> str:
    """The whole report as one HTML document with inline CSS and SVG only."""
    title = f"Imago Dialogue — {fmt.title(session)}"
    steps = "".join(
        f"<li><b>Round {r}</b> ({escape(who)}): {escape(', '.join(names))}</li>"
        for r, who, names in _steps_by_round(session)) or "<li>No steps recorded.</li>"
    homework_html = "".join(
        f"<li><b>{escape(h.title)}</b><br>{escape(h.text)}</li>" for h in homework or [])
    plots_html = _figure(plots.talk_time_svg(session), "Talk time per partner.")
    if session.mirrors:
        plots_html += _figure(plots.mirror_scores_svg(session),
                              "Mirror scores through the session: filled dots passed, hollow ones needed another try.")
    if session.turns:
        plots_html += _figure(plots.timeline_svg(session), "Who spoke when.")
    errors = "".join(f"<li>{escape(e)}</li>" for e in session.errors)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title><style>{STYLE}</style></head>
<body><main>
<h1>{escape(title)}</h1>
<p class=meta>{escape(fmt.when(session))} · session {escape(session.id)} · {escape(session.script or "script unknown")}</p>
<section aria-labelledby=h-numbers><h2 id=h-numbers>Key numbers</h2>{_numbers_html(session)}</section>
<section aria-labelledby=h-plots><h2 id=h-plots>At a glance</h2>{plots_html}</section>
<section aria-labelledby=h-verdicts><h2 id=h-verdicts>Mirrors and other steps</h2>{_verdicts_html(session)}</section>
<section aria-labelledby=h-steps><h2 id=h-steps>Steps</h2><ul>{steps}</ul></section>
{f'<section aria-labelledby=h-homework><h2 id=h-homework>For the week ahead</h2><ul>{homework_html}</ul></section>' if homework_html else ''}
{f'<section aria-labelledby=h-errors><h2 id=h-errors>Problems</h2><ul>{errors}</ul></section>' if errors else ''}
<section aria-labelledby=h-transcript><h2 id=h-transcript>Transcript</h2>{_transcript_html(session)}</section>
</main></body></html>
"""


def report_path(record: Path, out: str | Path | None = None) -> Path:
    """Where the HTML goes: `--out` (a file, or a folder to put `<record>.html` in), else beside."""
    if not out:
        return record.with_suffix(".html")
    folder = str(out).endswith(("/", os.sep))       # "reports/": a folder, made if missing
    out = Path(out).expanduser()
    if folder or out.is_dir():
        return out / record.with_suffix(".html").name
    return out


def write_report(record: str | Path, out: str | Path | None = None, subtitles: bool = True,
                 events: Events | None = None) -> tuple[Session, ReportFiles, str]:
    """Read a record (unless its `events` are given) and write `<record>.html`, `.vtt`, `.srt`.

    The files are the user's only (0600) and replaced atomically; a missing folder for
    `out` is made (0700). Raises NoSession for a record that holds no session (nothing is
    written then) and OSError when a file cannot be written. Returns the analysed session,
    the files written and the text summary.
    """
    record = Path(record)
    if events is None:
        events = read_record(record)
    problem = no_session_problem(events, record)
    if problem:
        raise NoSession(problem)
    session = analyse(events, fallback_id=record.stem)
    homework = suggest([session.weaknesses()], load_homework())
    html_path = report_path(record, out)
    targets = [html_path] + ([html_path.with_suffix(s) for s in (".vtt", ".srt")] if subtitles else [])
    if any(t.resolve() == record.resolve() for t in targets):
        raise ReportError(f"writing the report to {html_path} would overwrite the record {record}; "
                          "give --out a file ending in .html")
    write_private(html_path, render_html(session, homework))
    written = write_subtitles(session, html_path) if subtitles else []
    return session, ReportFiles(html_path, written), text_summary(session, homework)


def report_for_command(record: str | Path, out: str | Path | None = None, subtitles: bool = True,
                       events: Events | None = None, note: str | None = None) -> tuple[int, Session | None]:
    """`write_report`, told on the terminal as the commands do (the summary and the files
    written, or what went wrong and the fix); (exit code, the session when written)."""
    try:
        session, files, summary = write_report(record, out=out, subtitles=subtitles, events=events)
    except ReportError as error:
        print(str(error), file=sys.stderr)
        return 2, None
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        print(f"Could not write the report: {where}{error.strerror or error}", file=sys.stderr)
        return 1, None
    if note:
        print(note, file=sys.stderr)
    if not session.turns and not session.exchanges and not session.steps:
        print(f"Note: {record} holds no turns, steps or verdicts.", file=sys.stderr)
    print(summary)
    print(f"Report: {files.html}")
    for path in files.subtitles:
        print(f"Transcript: {path}")
    return 0, session
