"""`facilitator judge`: judge one mirror, or a whole .jsonl file of replies, from text.

  facilitator judge --sender "..." --reply "..."        one mirror, verdict as JSON
  facilitator judge --batch FILE.jsonl                   one JSON line out per line in

Input lines follow ../shared/data: {"id","sender","reply"} for a mirror, or
{"id","kind","context":[...],"reply"} for the other kinds (no "kind" means a mirror).
Output lines: {"id","kind","label","score","missing","intrusions"}.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from facilitator.judging import Judge, default_judge
from facilitator.judging.cases import from_json_line


def judge_line(judge: Judge, row: dict) -> dict:
    case = from_json_line(row)
    verdict = judge.judge(case["kind"], case["context"], case["reply"])
    return {"id": row.get("id"), **verdict.to_dict()}


def run_batch(judge: Judge, lines: TextIO, out: TextIO) -> int:
    bad = 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            result = judge_line(judge, row)
        except (ValueError, KeyError, TypeError) as error:
            print(f"line {number}: {error}", file=sys.stderr)
            bad += 1
            continue
        out.write(json.dumps(result) + "\n")
    return 1 if bad else 0


def handle(args: argparse.Namespace) -> int:
    judge = default_judge()
    if args.batch:
        if args.batch == "-":
            return run_batch(judge, sys.stdin, sys.stdout)
        with open(args.batch) as lines:
            return run_batch(judge, lines, sys.stdout)
    if args.sender is None or args.reply is None:
        print("give --batch FILE.jsonl, or both --sender and --reply", file=sys.stderr)
        return 2
    verdict = judge.judge("mirror", [args.sender], args.reply)
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
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--batch", metavar="FILE.jsonl", help="judge every line of FILE ('-' = stdin)")
    parser.add_argument("--sender", help="the Sender's turn (for one mirror)")
    parser.add_argument("--reply", help="the Receiver's mirror (for one mirror)")
    parser.add_argument("--feedback", action="store_true", help="also print the spoken coaching")
    parser.add_argument("--sender-name", default="Partner A")
    parser.add_argument("--receiver-name", default="Partner B")
    parser.set_defaults(handler=handle)
