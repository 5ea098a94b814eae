"""Sub-commands that hold a simulated session, and the two that choose between a live and a
simulated one:

- `simulate SESSION.toml`: a whole session through the real pipeline with any voices or
  recordings as the partners, who answer once the facilitator has finished speaking (the
  session file: facilitator/sim/session_file.py; the room: facilitator/sim/room.py);
- `demo`: `simulate` of the packaged prompts/demo_session.toml (one code path);
- `start`: a live session with the microphone (as `run`), or the demo when there is none;
- `resume`: an interrupted session goes on as what it was, live, the demo, or the same
  session file (the record's `session` event names it: input "demo" or "simulate:<path>").
"""

from __future__ import annotations

import sys
from pathlib import Path

from facilitator import prompts as prompt_files
from facilitator.audio_in import has_input_device
from facilitator.commands_run import (UsageError, _names, cmd_run, common_options,
                                      device_options, enroll_option, go, load_config,
                                      refuse_bad_arguments)

DEMO_INPUT = "demo"
SIMULATE_INPUT = "simulate:"          # + the session file's absolute path
RESUMABLE_ENDS = ("device_lost", "error", "stopped", "input_end")


def register(subparsers) -> None:
    start = subparsers.add_parser(
        "start", help="a live session with the microphone, or the demo when there is none",
        description="Start a session: with a microphone, a live session (as `run`); with "
                    "none, the built-in demo (as `demo`).")
    common_options(start, fast=False)
    device_options(start)
    start.set_defaults(handler=cmd_start, fast=False)

    simulate = subparsers.add_parser(
        "simulate", help="a whole session with any voices or recordings as the partners, "
                         "from a session file",
        description="Drive a whole session through the real pipeline from a session file: "
                    "each partner's line (text in a voice, or a recording) is played once the "
                    "facilitator has finished speaking, plus a reaction delay, in a room with "
                    "optional noise, reverb and the facilitator's echo. Besides the record it "
                    "writes <record>.played.jsonl: when each line was played, to score the "
                    "session against its script. The format is in the README; "
                    "examples/simulate.toml is a sample.")
    simulate.add_argument("session", type=Path, metavar="SESSION.toml",
                          help="the session file: [names], [voices], [room], [enroll] and the "
                               "partners' [[lines]] (paths in it are relative to it)")
    common_options(simulate)
    simulate.set_defaults(handler=cmd_simulate)

    demo = subparsers.add_parser(
        "demo", help="the built-in demo: a whole simulated session between two synthetic partners",
        description="`simulate` of the packaged prompts/demo_session.toml: two synthetic "
                    "partners (espeak-ng voices) hold a whole session through the real "
                    "pipeline: they enroll their voices, one mirror is partial and caught, and "
                    "once the wrong partner answers and is reminded.")
    common_options(demo)
    demo.set_defaults(handler=cmd_demo)

    resume = subparsers.add_parser(
        "resume", help="continue an interrupted session where it stopped",
        description="Continue a session that was interrupted (crash, power cut, unplugged "
                    "microphone, closed terminal) at the step it was in, appending to its "
                    "record. A demo's record goes on as the demo, a simulated session's with "
                    "the same session file (its partners say the lines from that step on).")
    resume.add_argument("--record", type=Path, metavar="PATH",
                        help="the session record to continue (default: the newest one that did not end)")
    resume.add_argument("--silent", action="store_true",
                        help="show and record the prompts without playing them aloud")
    resume.add_argument("--fast", action="store_true",
                        help="with --input, a demo or a simulated session: as fast as the CPU allows")
    resume.add_argument("--name", action="append", default=[], metavar="A=NAME",
                        help="a partner's name (default: the names in the record)")
    resume.add_argument("--view", action="store_true", help="serve the live coach view on 127.0.0.1")
    resume.add_argument("--device", metavar="NAME_OR_INDEX", help="input device name or index")
    resume.add_argument("--input", type=Path, metavar="FILE",
                        help="a recording to use instead of the microphone")
    enroll_option(resume)
    resume.set_defaults(handler=cmd_resume)


def cmd_simulate(args, resume_events=None) -> int:
    path = Path(args.session).expanduser()
    return simulate(args, path, SIMULATE_INPUT + str(path.resolve()), resume_events)


def cmd_demo(args, resume_events=None) -> int:
    return simulate(args, Path(str(prompt_files.resource("demo_session.toml"))), DEMO_INPUT,
                    resume_events)


def simulate(args, path: Path, input_name: str, resume_events=None) -> int:
    """Run the session file at `path` (a new session, or `resume_events`' continued); the
    exit code. Every problem with the file is one message and exit 2, before a model loads."""
    from facilitator.paths import session_voices_dir
    from facilitator.sim.acoustics import RoomAcoustics
    from facilitator.sim.room import SimulatedRoom, resume_lines
    from facilitator.sim.session_file import SessionFileError, load_session, render_session

    config = load_config(args)
    refused = refuse_bad_arguments(args, resume_events)
    if refused:
        return refused
    try:
        session_file = load_session(path, _script_steps(config))
        lines = session_file.playable()
        if resume_events:
            kept = session_file.enroll is not None or session_voices_dir(args.record).is_dir()
            lines = resume_lines(lines, resume_events, kept)
        _introduce(args, config, session_file, input_name, len(lines))
        render_session(session_file, lines)
    except (SessionFileError, UsageError) as error:
        print(f"Cannot simulate: {error}", file=sys.stderr)
        return 2
    settings = session_file.room
    acoustics = RoomAcoustics.for_lines([line.audio for line in lines], settings.reverb_s,
                                        settings.noise_snr_db, settings.seed)
    offset = max((float(e.get("t", 0.0)) for e in resume_events), default=0.0) if resume_events else 0.0
    room = SimulatedRoom(lines, config.turns.frame_ms, realtime=not args.fast,
                         reaction_s=settings.reaction_s, echo=settings.echo, seed=settings.seed,
                         acoustics=acoustics, time_offset=offset,
                         name="demo" if input_name == DEMO_INPUT else "simulate")
    logs = []

    def setup(session, writer) -> None:
        from facilitator.sim.played import PlayedLog

        try:
            logs.append(PlayedLog(writer.path, append=bool(resume_events)))
            room.on_played = logs[0]
        except OSError as error:
            print(f"(Cannot write the lines played beside the record: {error.strerror or error}; "
                  "the session goes on.)", file=sys.stderr)
        room.attach(session.bus)

    try:
        code = go(args, config, room, input_name, realtime=not args.fast,
                  extra_names=session_file.names, setup=setup, resume_events=resume_events,
                  enroll_files=session_file.enroll)
    finally:
        for log in logs:
            log.close()
    if logs:
        print(f"Lines played: {logs[0].path}")
    return code


def _introduce(args, config, session_file, input_name: str, count: int) -> None:
    names = {"A": config.session.partner_a, "B": config.session.partner_b,
             **session_file.names, **_names(args.name)}
    if input_name == DEMO_INPUT:
        print("Preparing the demo: two synthetic partners, "
              f"{names['A']} and {names['B']}, rendered with espeak-ng ...")
    else:
        print(f"Preparing {session_file.path}: {count} lines by {names['A']} and {names['B']} ...")


def _script_steps(config) -> set[str] | None:
    """The dialogue's step names, which a line's `step` must be one of (None when the script
    cannot be read: starting the session says why)."""
    from facilitator.dialogue import Script, ScriptError
    from facilitator.prompts import PromptsError

    try:
        return set(Script.load(config.session.script).steps)
    except (ScriptError, PromptsError):
        return None


def cmd_start(args) -> int:
    if has_input_device():
        args.input = None
        return cmd_run(args)
    print("No microphone found, so here is the built-in demo: a whole simulated session "
          "through the real pipeline.\n")
    return cmd_demo(args)


def _interrupted(folder: Path) -> Path | None:
    """The newest record in `folder` that did not end (or ended on a lost device or an error)."""
    from facilitator.review.record import read_record

    records = sorted((p for p in folder.glob("*.jsonl") if not p.name.endswith(".played.jsonl")),
                     key=lambda p: p.stat().st_mtime, reverse=True) if folder.is_dir() else []
    for path in records:
        events = read_record(path)
        if events and events[-1].get("type") != "end" or (
                events and events[-1].get("reason") in ("device_lost", "error")):
            return path
    return None


def cmd_resume(args) -> int:
    """Find the interrupted record (--record, else the newest without an end) and go on as
    the session it was: live (or --input), the demo, or the same session file."""
    from facilitator.paths import sessions_dir
    from facilitator.review.record import read_record

    config = load_config(args)
    if args.record is None:
        folder = sessions_dir(config.session.data_dir)
        args.record = _interrupted(folder)
        if args.record is None:
            print(f"No interrupted session found in {folder}. Give one with "
                  "`facilitator resume --record PATH`.", file=sys.stderr)
            return 2
    if not args.record.is_file():
        print(f"No session record at {args.record}.", file=sys.stderr)
        return 2
    events = read_record(args.record)
    ends = [e for e in events if e.get("type") == "end"]
    if ends and ends[-1].get("reason") not in RESUMABLE_ENDS:
        print(f"{args.record} holds a session that ended ({ends[-1].get('reason')}); there is "
              "nothing to continue. Start a new one with `facilitator start`.", file=sys.stderr)
        return 2
    if not any(e.get("type") == "step" for e in events):
        print(f"{args.record} holds no dialogue step to resume from; start a new session "
              "with `facilitator start`.", file=sys.stderr)
        return 2
    _repair_torn_line(args.record)
    print(f"Resuming {args.record} at step "
          f"{next(e for e in reversed(events) if e.get('type') == 'step')['name']}.")
    source = str((events[0] if events[0].get("type") == "session" else {}).get("input") or "")
    if args.input is None and source == DEMO_INPUT:
        return cmd_demo(args, resume_events=events)
    if args.input is None and source.startswith(SIMULATE_INPUT):
        return simulate(args, Path(source[len(SIMULATE_INPUT):]), source, events)
    return cmd_run(args, resume_events=events)


def _repair_torn_line(path: Path) -> None:
    """A record cut mid-line (power cut, SIGKILL) gets its last line ended so appends stay valid."""
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with open(path, "ab") as handle:
            handle.write(b"\n")
