"""`facilitator judge`: judge one mirror, or a whole .jsonl file of replies, from text.

The input lines are the shape of the shared data sets ({"id","sender","reply"} for a
mirror, {"id","kind","context":[...],"reply"} for the other kinds). A line that cannot be
judged is named on stderr (line number and what is missing), answered with
{"id","error"} so the output keeps one line per input line, and makes the exit code 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Iterable, TextIO

from facilitator.judging import KINDS, Judge, default_judge

DESCRIPTION = """\
Judge dialogue steps from text, without audio: one mirror, or a file of replies.

  facilitator judge --sender "when you ... i feel ..." --reply "so when i ... you feel ..."
  facilitator judge --batch replies.jsonl > verdicts.jsonl

One mirror prints its verdict as one JSON object (with --feedback, also the coaching the
facilitator would speak). A batch file has one JSON object per line:

  {"id": "1", "sender": "...", "reply": "..."}                       a mirror
  {"id": "2", "kind": "summary", "context": ["...", "..."], "reply": "..."}

kind is one of: mirror, summary, validation, empathy, sender_statement (no kind: a
mirror); context is the Sender's turns the reply answers (a sender_statement needs none).
Each line out is {"id","kind","label","score","missing","intrusions","reason","detail"}
(reason: what is wrong, e.g. "actor"; detail: the words the coaching quotes). A line that
cannot be judged is named on stderr and answered with {"id","error"}.

Exit status: 0 all judged, 1 some lines could not be judged, 2 nothing judged (bad
options or no such file)."""

NEEDS_CONTEXT = {"summary", "validation", "empathy"}
WHAT = {"sender": "the words the Sender said", "reply": "the words the Receiver said"}


class LineError(ValueError):
    """A batch line that cannot be judged; the message says what is wrong with it."""


def _text(row: dict, key: str) -> str:
    value = row.get(key)
    if value is None:
        raise LineError(f'no "{key}" ({WHAT[key]})')
    if not isinstance(value, str):
        raise LineError(f'"{key}" must be a string, not {type(value).__name__}')
    if not value.strip():
        raise LineError(f'"{key}" is empty (it should hold {WHAT[key]})')
    return value


def _context(row: dict) -> list[str]:
    value = row.get("context")
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise LineError('"context" must be a list of the Sender\'s turns (strings)')
    return [t for t in value if t.strip()]


def parse_line(row: object) -> tuple[str, list[str], str]:
    """(kind, context, reply) of one batch line; raises LineError naming what is missing."""
    if not isinstance(row, dict):
        raise LineError(f"not a JSON object (got {type(row).__name__})")
    kind = row.get("kind") or "mirror"
    if kind not in KINDS:
        raise LineError(f"unknown kind {kind!r} (use one of {', '.join(KINDS)})")
    if kind == "mirror":
        if "sender" in row or "context" not in row:
            context = [_text(row, "sender")]
        else:
            context = _context(row)
            if not context:
                raise LineError('no "sender" (the words the Sender said)')
    elif kind in NEEDS_CONTEXT:
        if "context" not in row:
            raise LineError('no "context" (the Sender\'s turns the reply answers)')
        context = _context(row)
        if not context:
            raise LineError('"context" is empty (it should hold the Sender\'s turns the reply '
                            'answers)')
    else:
        context = _context(row) if "context" in row else []
    return kind, context, _text(row, "reply")


def judge_line(judge: Judge, row: dict) -> dict:
    kind, context, reply = parse_line(row)
    verdict = judge.judge(kind, context, reply)
    return {"id": row.get("id"), **verdict.to_dict()}


def _lines(raw: Iterable[bytes | str]) -> Iterable[tuple[int, str | None, str]]:
    """(number, text or None when not UTF-8, decode problem)."""
    for number, line in enumerate(raw, 1):
        if isinstance(line, str):
            yield number, line, ""
            continue
        try:
            yield number, line.decode("utf-8"), ""
        except UnicodeDecodeError as error:
            yield number, None, f"not UTF-8 text ({error.reason} at byte {error.start})"


def run_batch(judge: Judge, lines: Iterable[bytes | str], out: TextIO, name: str = "input") -> int:
    """Judge every line; returns 0, or 1 when any line could not be judged."""
    bad = total = 0
    for number, line, problem in _lines(lines):
        if line is not None and not line.strip():
            continue
        total += 1
        row: object = None
        try:
            if line is None:
                raise LineError(problem)
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise LineError(f"not JSON ({error.msg} at column {error.colno})") from None
            except (ValueError, RecursionError) as error:
                raise LineError(f"not JSON ({error})") from None
            result = judge_line(judge, row)   # type: ignore[arg-type]
        except (LineError, ValueError, KeyError, TypeError) as error:
            bad += 1
            print(f"judge: {name} line {number}: {error}; skipped", file=sys.stderr)
            ident = row.get("id") if isinstance(row, dict) else None
            out.write(json.dumps({"id": ident, "error": f"line {number}: {error}"}) + "\n")
            continue
        out.write(json.dumps(result) + "\n")
    if bad:
        print(f"judge: {bad} of {total} lines could not be judged (see above); "
              "each needs \"reply\" and \"sender\" (a mirror) or \"context\" (other kinds).",
              file=sys.stderr)
    return 1 if bad else 0


class BatchFileError(Exception):
    """A --batch file that cannot be opened, worded for the person who gave it."""


def open_batch(path: str):
    """The --batch file opened for reading bytes; raises BatchFileError saying why not."""
    file = Path(path)
    try:
        return file.open("rb")
    except FileNotFoundError:
        raise BatchFileError(f"no such file: {file}; give the path of a .jsonl file "
                             "(or - to read standard input)") from None
    except IsADirectoryError:
        raise BatchFileError(f"{file} is a folder; give the path of a .jsonl file") from None
    except PermissionError:
        raise BatchFileError(f"cannot read {file}: permission denied") from None
    except OSError as error:
        raise BatchFileError(f"cannot read {file}: {error.strerror or error}") from None


def _refuse(message: str) -> int:
    print(f"judge: {message}", file=sys.stderr)
    return 2


def handle(args: argparse.Namespace) -> int:
    if args.batch is not None:
        if args.sender is not None or args.reply is not None:
            return _refuse("give either --batch FILE.jsonl or --sender and --reply, not both")
        if args.batch == "-":
            return run_batch(default_judge(), getattr(sys.stdin, "buffer", sys.stdin),
                             sys.stdout, "stdin")
        try:
            lines = open_batch(args.batch)
        except BatchFileError as error:
            return _refuse(str(error))
        with lines:
            return run_batch(default_judge(), lines, sys.stdout, args.batch)
    if args.sender is None or args.reply is None:
        return _refuse("give --batch FILE.jsonl, or both --sender and --reply")
    if not args.sender.strip():
        return _refuse("--sender is empty: give the words the Sender said")
    if not args.reply.strip():
        return _refuse("--reply is empty: give the words the Receiver said")
    verdict = default_judge().judge("mirror", [args.sender], args.reply)
    print(json.dumps(verdict.to_dict()))
    if args.feedback:
        from facilitator.judging.feedback import feedback_text

        text = feedback_text(verdict, args.sender_name, args.receiver_name)
        if text:
            print(text)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "judge", help="judge dialogue steps from text (one mirror, or a .jsonl batch)",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--batch", metavar="FILE.jsonl",
                        help="judge every line of FILE.jsonl (- reads standard input); "
                             "one JSON verdict per line on standard output")
    parser.add_argument("--sender", metavar="TEXT", help="what the Sender said (one mirror)")
    parser.add_argument("--reply", metavar="TEXT",
                        help="the Receiver's mirror of it, to be judged (one mirror)")
    parser.add_argument("--feedback", action="store_true",
                        help="also print what the facilitator would say to coach the Receiver")
    parser.add_argument("--sender-name", default="Partner A", metavar="NAME",
                        help="the Sender's name in the --feedback text (default: Partner A)")
    parser.add_argument("--receiver-name", default="Partner B", metavar="NAME",
                        help="the Receiver's name in the --feedback text (default: Partner B)")
    parser.set_defaults(handler=handle)
