"""Sub-commands of the live loop: `start`, `run`, `demo`, `devices`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from facilitator import config as config_module
from facilitator.audio_in import (AudioInputError, FileSource, MicrophoneSource,
                                  PairedMicrophones, describe_devices, has_input_device)
from facilitator.dialogue import ScriptError
from facilitator.prompts import PromptsError
from facilitator.transcribe import ModelError


RECORD_HELP = ("where to write the session record (JSON Lines; default: <data dir>/sessions/"
               "<id>.jsonl); must not exist yet")


def _common(parser: argparse.ArgumentParser, fast: bool = True) -> None:
    parser.add_argument("--record", type=Path, metavar="PATH", help=RECORD_HELP)
    parser.add_argument("--silent", action="store_true",
                        help="show and record the prompts without playing them aloud")
    if fast:
        parser.add_argument("--fast", action="store_true",
                            help="feed the audio as fast as the CPU allows instead of in real time")
    parser.add_argument("--name", action="append", default=[], metavar="A=NAME",
                        help="a partner's name, spoken by the facilitator: --name A=Alex --name B=Sam")
    parser.add_argument("--view", action="store_true",
                        help="serve the live coach view on 127.0.0.1 (its address is printed at start)")


def _devices(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", metavar="NAME_OR_INDEX",
                        help="input device: part of its name or its index (see `facilitator devices`)")
    parser.add_argument("--second-device", metavar="NAME_OR_INDEX",
                        help="two microphones, one per partner: the second partner's device")


def _enroll_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--enroll", action="append", default=[], metavar="A=FILE",
                        help="a partner's recorded voice sample (8-10 s of speech, WAV of any "
                             "rate): --enroll A=a.wav --enroll B=b.wav; without it the voices "
                             "are learnt at the start, hands-free")


def register(subparsers) -> None:
    start = subparsers.add_parser(
        "start", help="a live session with the microphone, or the demo when there is none",
        description="Start a session: with a microphone, a live session (as `run`); with "
                    "none, the built-in demo (as `demo`).")
    _common(start, fast=False)
    _devices(start)
    start.set_defaults(handler=cmd_start, fast=False)

    run = subparsers.add_parser(
        "run", help="a live session (the microphone, or --input FILE for a recording made with the facilitator)",
        description="A live session through the microphone. `--input FILE` stands in for the "
                    "microphone with a recording of a session held with the facilitator (the "
                    "couple waited for its prompts); a recording made without it does not "
                    "wait for the prompts, so turns are lost while they are spoken.")
    _common(run)
    _devices(run)
    run.add_argument("--input", type=Path, metavar="FILE",
                     help="a recording (WAV, FLAC, ...) played in place of the microphone")
    _enroll_option(run)
    run.set_defaults(handler=cmd_run)

    demo = subparsers.add_parser(
        "demo", help="a whole simulated session between two synthetic partners",
        description="Two synthetic partners (espeak-ng voices) hold a whole session through "
                    "the real pipeline: they enroll their voices, one mirror is partial and "
                    "caught, and once the wrong partner answers and is reminded.")
    _common(demo)
    demo.set_defaults(handler=cmd_demo)

    resume = subparsers.add_parser(
        "resume", help="continue an interrupted session where it stopped",
        description="Continue a session that was interrupted (crash, power cut, unplugged "
                    "microphone, closed terminal) at the step it was in, appending to its "
                    "record. A demo's record goes on as the demo.")
    resume.add_argument("--record", type=Path, metavar="PATH",
                        help="the session record to continue (default: the newest one that did not end)")
    resume.add_argument("--silent", action="store_true",
                        help="show and record the prompts without playing them aloud")
    resume.add_argument("--fast", action="store_true",
                        help="with --input or a demo: as fast as the CPU allows")
    resume.add_argument("--name", action="append", default=[], metavar="A=NAME",
                        help="a partner's name (default: the names in the record)")
    resume.add_argument("--view", action="store_true", help="serve the live coach view on 127.0.0.1")
    resume.add_argument("--device", metavar="NAME_OR_INDEX", help="input device name or index")
    resume.add_argument("--input", type=Path, metavar="FILE",
                        help="a recording to use instead of the microphone")
    _enroll_option(resume)
    resume.set_defaults(handler=cmd_resume)

    devices = subparsers.add_parser("devices", help="list the audio devices",
                                    description="List the audio input and output devices "
                                                "with their indexes, for --device.")
    devices.set_defaults(handler=lambda args: print(describe_devices()) or 0)


class UsageError(Exception):
    """A command-line value that cannot be used, worded with the fix."""


def _names(values: list[str]) -> dict[str, str]:
    names = {}
    for value in values:
        key, _, name = value.partition("=")
        if key.strip().upper() not in ("A", "B") or not name.strip():
            raise UsageError(f"--name takes A=NAME or B=NAME (e.g. --name A=Alex), not {value!r}")
        names[key.strip().upper()] = name.strip()
    return names


def _load_config(args):
    try:
        config = config_module.load(args.config)
    except config_module.ConfigError as error:
        print(f"Configuration problem: {error}", file=sys.stderr)
        raise SystemExit(2)
    return with_devices(config, getattr(args, "device", None), getattr(args, "second_device", None))


def with_devices(config, device=None, second_device=None):
    """The config with `--device` / `--second-device` applied (a second device: two
    microphones, so two channels)."""
    audio = {}
    if device is not None:
        audio["device"] = device
    if second_device is not None:
        audio["second_device"] = second_device
    if audio.get("second_device", config.audio.second_device) is not None:
        audio["channels"] = 2
    return config.with_changes(audio=audio) if audio else config


def _check_record(args, resuming: bool = False) -> None:
    """A new session never writes into an existing record (checked before anything loads)."""
    record = getattr(args, "record", None)
    if record is not None and not resuming and Path(record).exists():
        raise UsageError(f"{record} already holds a session record; give another --record "
                         f"path, or continue that session with `facilitator resume --record {record}`")


def _worded_start_errors() -> tuple[type[Exception], ...]:
    from facilitator.record import RecordExists
    from facilitator.speakers.live import SpeakerSetupError

    return (ModelError, ScriptError, PromptsError, SpeakerSetupError, RecordExists)


def start_errors() -> tuple[type[Exception], ...]:
    """What `app.build_session` (and `app.enroll_voices`) raise when a session cannot start:
    the errors worded for the user, and OSError (the record cannot be written)."""
    return _worded_start_errors() + (OSError,)


def cannot_start(source, error: Exception) -> int:
    """Close the input and say why the session could not start; the exit code."""
    source.close()
    if isinstance(error, _worded_start_errors()):
        print(f"Cannot start: {error}", file=sys.stderr)
    else:
        print(f"Cannot start: cannot write the session record ({error.strerror or error}: "
              f"{error.filename or ''}); check the data folder can be written "
              "([session] data_dir, FACILITATOR_DATA_DIR or --record)", file=sys.stderr)
    return 2


def _go(args, config, source, input_name: str, realtime: bool, extra_names=None, setup=None,
        resume_events=None, transcriber=None) -> int:
    from facilitator.app import RunOptions, build_session, run_session
    from facilitator.speakers.recordings import parse_assignments

    try:
        enroll_files = parse_assignments(getattr(args, "enroll", []) or [])
        names = {**(extra_names or {}), **_names(args.name)}
    except (ValueError, UsageError) as error:
        source.close()
        print(f"{'--enroll: ' if isinstance(error, ValueError) else ''}{error}", file=sys.stderr)
        return 2
    options = RunOptions(realtime=realtime, speak_aloud=not args.silent, record_path=args.record,
                         input_name=input_name, names=names,
                         view=args.view, resume_events=resume_events,
                         enroll_files=enroll_files or None)
    try:
        session, writer = build_session(config, source, options, transcriber=transcriber)
    except start_errors() as error:
        return cannot_start(source, error)
    if setup:
        setup(session)
    return exit_code(run_session(session, writer))


def exit_code(reason: str) -> int:
    """The exit code of a session that ended for `reason`, saying what to do when it was lost."""
    if reason == "device_lost":
        print("The microphone was lost. Everything said so far is in the record above; "
              "plug it in again and continue with `facilitator resume`.", file=sys.stderr)
        return 3
    if reason == "error":
        print("The session ended on an error (see the message above); everything said so far "
              "is in the record.", file=sys.stderr)
    return 0 if reason in ("complete", "stopped", "input_end", "enrolled") else 1


def _refuse_bad_arguments(args, resume_events) -> int:
    """2 (after a message) when --record or --name cannot be used, before anything loads."""
    try:
        _check_record(args, resuming=resume_events is not None)
        _names(args.name)
    except UsageError as error:
        print(error, file=sys.stderr)
        return 2
    return 0


def cmd_run(args, resume_events=None) -> int:
    config = _load_config(args)
    refused = _refuse_bad_arguments(args, resume_events)
    if refused:
        return refused
    opened = open_input(config, args.input, args.fast)
    if isinstance(opened, int):
        return opened
    source, input_name, realtime, transcriber = opened
    return _go(args, config, source, input_name, realtime=realtime, resume_events=resume_events,
               transcriber=transcriber)


def open_input(config, recording: Path | None = None, fast: bool = False):
    """What a live session listens to: the `recording` (in real time unless `fast`), else
    the microphones, with the speech model loading while they open. Returns (source, its
    name, realtime, the loading speech model or None), or the exit code after saying why
    there is no input."""
    if recording:
        try:
            source = FileSource(recording, config.turns.frame_ms, realtime=not fast,
                                channels=config.audio.channels)
        except AudioInputError as error:
            print(f"Cannot read the input: {error}", file=sys.stderr)
            return 2
        return source, str(recording), not fast, None
    from facilitator.app import ROOT
    from facilitator.loading import Loading
    from facilitator.transcribe import load_transcriber

    if not has_input_device():
        print("No microphone found. Connect one (see `facilitator devices`), or try the "
              "built-in demo: `facilitator demo`.", file=sys.stderr)
        return 2
    loading = Loading(load_transcriber, config.transcription, ROOT, name="speech-model")  # while the microphone opens
    try:
        source = open_microphones(config)
        source.wait_ready()
    except AudioInputError as error:
        print(f"Microphone problem: {error}", file=sys.stderr)
        return 2
    return source, source.name, True, loading


def open_microphones(config):
    """The microphone, or two (one per partner) when [audio] second_device is set."""
    def microphone(device, channels):
        return MicrophoneSource(device, config.turns.frame_ms, channels=channels,
                                ready_timeout_s=config.audio.ready_timeout_s,
                                lost_device_s=config.audio.lost_device_s)

    if config.audio.second_device is None:
        return microphone(config.audio.device, config.audio.channels)
    first = microphone(config.audio.device, 1)
    try:
        return PairedMicrophones(first, microphone(config.audio.second_device, 1))
    except AudioInputError:
        first.close()
        raise


def cmd_demo(args, resume_events=None) -> int:
    from facilitator.sim.room import SimulatedRoom, load_demo_lines, render_lines, resume_lines
    from facilitator.paths import session_voices_dir

    config = _load_config(args)
    refused = _refuse_bad_arguments(args, resume_events)
    if refused:
        return refused
    names, lines = load_demo_lines()
    if resume_events:
        lines = resume_lines(lines, resume_events, session_voices_dir(args.record).is_dir())
    print("Preparing the demo: two synthetic partners, "
          f"{names['A']} and {names['B']}, rendered with espeak-ng ...")
    render_lines(lines)
    room = SimulatedRoom(lines, config.turns.frame_ms, realtime=not args.fast, echo=True)
    return _go(args, config, room, "demo", realtime=not args.fast, extra_names=names,
               setup=lambda session: room.attach(session.bus),
               resume_events=resume_events)


def cmd_start(args) -> int:
    if has_input_device():
        args.input = None
        return cmd_run(args)
    print("No microphone found, so here is the built-in demo: a whole simulated session "
          "through the real pipeline.\n")
    return cmd_demo(args)


RESUMABLE_ENDS = ("device_lost", "error", "stopped", "input_end")


def cmd_resume(args) -> int:
    """Find the interrupted record (--record, else the newest without an end) and go on."""
    from facilitator.paths import sessions_dir
    from facilitator.review.record import read_record

    config = _load_config(args)
    if args.record is None:
        folder = sessions_dir(config.session.data_dir)
        records = sorted(folder.glob("*.jsonl"), key=lambda p: p.stat().st_mtime, reverse=True) \
            if folder.is_dir() else []
        for path in records:
            events = read_record(path)
            if events and events[-1].get("type") != "end" or (
                    events and events[-1].get("reason") in ("device_lost", "error")):
                args.record = path
                break
        else:
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
    first = events[0] if events[0].get("type") == "session" else {}
    if first.get("input") == "demo" and args.input is None:
        return cmd_demo(args, resume_events=events)
    return cmd_run(args, resume_events=events)


def _repair_torn_line(path: Path) -> None:
    """A record cut mid-line (power cut, SIGKILL) gets its last line ended so appends stay valid."""
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with open(path, "ab") as handle:
            handle.write(b"\n")
