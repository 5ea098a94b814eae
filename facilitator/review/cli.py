"""The `report` and `history` sub-commands.

Exit codes: 0 done; 1 a file could not be read or written; 2 the request cannot be met
(a record that holds no session, a configuration problem).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from facilitator.review.record import read_record, sessions_dir, skipped_note


def register(subparsers: argparse._SubParsersAction) -> None:
    report = subparsers.add_parser(
        "report", help="write an HTML report and subtitles for a session record",
        description="Write RECORD's report as one self-contained HTML file beside it, plus "
                    "WebVTT and SRT transcripts, and print a short summary.")
    report.add_argument("record", help="a session record (<data dir>/sessions/<id>.jsonl)")
    report.add_argument("--out", help="where to write the HTML: a file, or a folder (made if "
                                      "missing) to put RECORD.html in (default: beside the record)")
    report.add_argument("--no-subtitles", action="store_true", help="skip the .vtt and .srt files")
    report.set_defaults(handler=run_report)

    history = subparsers.add_parser(
        "history", help="list past sessions per couple, their progress and homework",
        description="List past sessions, one table per couple, write history.html with a plot "
                    "of first-try mirror success, and suggest homework from what was weak.")
    history.add_argument("--dir", help="folder of session records, or a data dir holding sessions/ "
                                       "(default: <data dir>/sessions, the data dir being "
                                       "$FACILITATOR_DATA_DIR, else [session] data_dir of the "
                                       "config, else the user data directory)")
    history.add_argument("--couple", metavar="NAME",
                         help="only this couple (\"Alex & Sam\") or the couple of this partner")
    history.add_argument("--demos", action="store_true", help="include demo sessions (kept apart)")
    history.add_argument("--limit", type=int, default=None, help="only each couple's latest N sessions")
    history.add_argument("--no-html", action="store_true", help="do not write history.html")
    history.set_defaults(handler=run_history)


def run_report(args: argparse.Namespace) -> int:
    from facilitator.review.report import report_for_command

    record = Path(args.record)
    if not record.is_file():
        print(f"No such record: {record}", file=sys.stderr)
        return 1
    try:
        events = read_record(record)
    except OSError as error:
        print(f"Could not read {record}: {error.strerror or error}", file=sys.stderr)
        return 1
    code, _ = report_for_command(record, out=args.out, subtitles=not args.no_subtitles,
                                 events=events, note=skipped_note(events, record))
    return code


def _folder(args: argparse.Namespace) -> Path | None:
    """`--dir`, else the sessions folder of the data dir the config names (as run/resume)."""
    if getattr(args, "dir", None):
        return sessions_dir(args.dir)
    from facilitator import config as config_module

    try:
        config = config_module.load(getattr(args, "config", None))
    except config_module.ConfigError as error:
        print(f"Configuration problem: {error}", file=sys.stderr)
        return None
    return sessions_dir(None, config.session.data_dir)


def run_history(args: argparse.Namespace) -> int:
    from facilitator.review.history import by_couple, scan_history, text_history, write_html

    folder = _folder(args)
    if folder is None:
        return 2
    scan = scan_history(folder)
    for note in scan.notes:
        print(note, file=sys.stderr)
    if not scan.entries:
        print(f"No session records in {folder}.")
        return 0
    couple = getattr(args, "couple", None)
    couples, hidden = by_couple(scan.entries, demos=getattr(args, "demos", False), couple=couple,
                                limit=args.limit)
    if not couples:
        if couple:
            everyone, _ = by_couple(scan.entries, demos=True)
            known = ", ".join(sorted({c.title for c in everyone}))
            print(f"No sessions of {couple!r} in {folder}; the couples there: {known}.", file=sys.stderr)
            return 1
        print(f"Only demo sessions in {folder}: {hidden} (--demos to include them).")
        return 0
    print(text_history(couples, hidden))
    if not args.no_html:
        try:
            page = write_html(folder, couples, hidden)
            print(f"\nHistory with plot: {page}")
        except OSError as error:
            print(f"Could not write {folder / 'history.html'}: {error.strerror or error}", file=sys.stderr)
            return 1
    return 0
