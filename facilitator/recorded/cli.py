"""The `analyze` sub-command: review a dialogue recorded without the facilitator.

Exit codes: 0 done; 1 a file could not be written (the record, the report); 2 the request
cannot be met (a recording or voice sample that is missing, empty, not audio, silent; an
existing --record; a configuration or model problem); 3 done, but only one voice was heard
(the record and report are written and say so; nothing is judged).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

ONE_VOICE_EXIT = 3


def register(subparsers: argparse._SubParsersAction) -> None:
    analyze = subparsers.add_parser(
        "analyze", help="review a dialogue recorded without the facilitator: who spoke, every mirror judged, the report",
        description="Review a dialogue recorded without the facilitator (in the office, on a "
                    "video call, on a phone): find who spoke when (the two voices told apart, "
                    "or --enroll samples, or two microphones in a stereo file), transcribe each "
                    "turn, label what it does (message, mirror, summary, validation, empathy, "
                    "...), judge every mirror, summary, validation and empathy against the "
                    "partner's message as a live session does, write a session record and its "
                    "HTML report, WebVTT and SRT. Nothing is spoken. Exit codes: 0 done, 1 a "
                    "file could not be written, 2 bad input, 3 only one voice was heard.")
    analyze.add_argument("recording", type=Path,
                         help="the recording: WAV, FLAC, MP3, M4A/AAC, OGG/Opus, or the sound of "
                              "an MP4/WebM video, any rate; a stereo file whose channels differ "
                              "is taken as two microphones, one per partner")
    analyze.add_argument("--enroll", action="append", default=[], metavar="A=FILE",
                         help="a partner's voice sample (8-10 s of their speech, any format): "
                              "--enroll A=a.wav --enroll B=b.wav; without it the two voices are "
                              "told apart by themselves, A being the one heard first")
    analyze.add_argument("--name", action="append", default=[], metavar="A=NAME",
                         help="a partner's name for the record and report: --name A=Alex --name B=Sam")
    analyze.add_argument("--record", type=Path, metavar="OUT.jsonl",
                         help="where to write the session record (default: <data dir>/sessions/"
                              "<id>.jsonl); must not exist yet")
    analyze.add_argument("--no-report", action="store_true",
                         help="write only the record, not the HTML report and subtitles")
    analyze.set_defaults(handler=run_analyze)


def _problem(error: OSError) -> str:
    where = f"{error.filename}: " if error.filename else ""
    return f"{where}{error.strerror or error}"


def run_analyze(args: argparse.Namespace) -> int:
    from facilitator import config as config_module
    from facilitator.recorded.inputs import InputError, parse_pairs
    from facilitator.recorded.pipeline import AnalyzeError, Request, analyze
    from facilitator.recorded.progress import for_terminal
    from facilitator.record import RecordExists, RecordWriteError
    from facilitator.dialogue import ScriptError
    from facilitator.prompts import PromptsError
    from facilitator.transcribe import ModelError

    config = config_module.load_for_command(args.config)
    try:
        enroll = {k: Path(v) for k, v in parse_pairs(args.enroll, "--enroll").items()}
        names = parse_pairs(args.name, "--name")
    except InputError as error:
        print(str(error), file=sys.stderr)
        return 2
    request = Request(args.recording, enroll, names, args.record)
    progress = for_terminal()
    try:
        outcome = analyze(request, config, progress=progress)
    except (AnalyzeError, ModelError, RecordExists, ScriptError, PromptsError) as error:
        progress.close()
        print(f"Cannot analyse: {error}", file=sys.stderr)
        return 2
    except RecordWriteError as error:
        progress.close()
        said = str(error).split("; everything")[0]
        print(f"Cannot analyse: {said}; free some disk space (or give --record another place) "
              "and analyse again", file=sys.stderr)
        return 1
    except OSError as error:
        progress.close()
        print(f"Cannot write the record: {_problem(error)}", file=sys.stderr)
        return 1
    except Exception as error:        # a defect: one line (the details with --verbose)
        progress.close()
        logging.getLogger(__name__).debug("analyze failed", exc_info=True)
        print(f"Cannot analyse: internal error: {type(error).__name__}: {error} "
              "(run with --verbose for the details)", file=sys.stderr)
        return 1
    progress.close()
    print(f"Analysed {args.recording}: {outcome.duration / 60:.1f} min, {outcome.turns} turns, "
          f"{outcome.verdicts} verdicts.")
    if outcome.note:
        print(f"Note: {outcome.note}.", file=sys.stderr)
    print(f"Session record: {outcome.record}")
    if not args.no_report:
        code = _report(outcome.record)
        if code:
            return code
    return ONE_VOICE_EXIT if outcome.voices == 1 else 0


def _report(record: Path) -> int:
    """Write the report as `facilitator report` does; the exit code."""
    from facilitator.review.report import report_for_command

    return report_for_command(record)[0]
