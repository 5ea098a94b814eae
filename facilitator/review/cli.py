"""The `report` and `history` sub-commands."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from facilitator.review.record import sessions_dir


def register(subparsers: argparse._SubParsersAction) -> None:
    report = subparsers.add_parser(
        "report", help="write an HTML report and subtitles for a session record",
        description="Write RECORD's report as one self-contained HTML file beside it, plus "
                    "WebVTT and SRT transcripts, and print a short summary.")
    report.add_argument("record", help="a session record (<data dir>/sessions/<id>.jsonl)")
    report.add_argument("--out", help="where to write the HTML (default: beside the record)")
    report.add_argument("--no-subtitles", action="store_true", help="skip the .vtt and .srt files")
    report.set_defaults(handler=run_report)

    history = subparsers.add_parser(
        "history", help="list past sessions, their progress and homework",
        description="List past sessions with their key numbers, write history.html with a plot "
                    "of first-try mirror success, and suggest homework from what was weak.")
    history.add_argument("--dir", help="folder of session records (default: $FACILITATOR_DATA_DIR "
                                       "or the user data directory, /sessions)")
    history.add_argument("--limit", type=int, default=None, help="only the latest N sessions")
    history.add_argument("--no-html", action="store_true", help="do not write history.html")
    history.set_defaults(handler=run_history)


def run_report(args: argparse.Namespace) -> int:
    from facilitator.review.report import write_report

    record = Path(args.record)
    if not record.is_file():
        print(f"No such record: {record}", file=sys.stderr)
        return 1
    session, files, summary = write_report(record, out=args.out, subtitles=not args.no_subtitles)
    if not session.turns and not session.exchanges and not session.steps:
        print(f"Note: {record} holds no turns, steps or verdicts.", file=sys.stderr)
    print(summary)
    print(f"Report: {files.html}")
    for path in files.subtitles:
        print(f"Transcript: {path}")
    return 0


def run_history(args: argparse.Namespace) -> int:
    from facilitator.review.history import homework_for, load_history, render_html, text_table

    folder = sessions_dir(args.dir)
    entries = load_history(folder, limit=args.limit)
    if not entries:
        print(f"No session records in {folder}.")
        return 0
    homework = homework_for(entries)
    print(text_table(entries))
    if homework:
        print("\nFor the week ahead:")
        for item in homework:
            print(f"  • {item.title}: {item.text}")
    if not args.no_html:
        page = folder / "history.html"
        try:
            page.write_text(render_html(entries, homework), encoding="utf-8")
            print(f"\nHistory with plot: {page}")
        except OSError as error:
            print(f"Could not write {page}: {error.strerror}", file=sys.stderr)
    return 0
