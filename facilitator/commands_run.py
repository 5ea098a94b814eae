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


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--record", type=Path, help="session record file (JSON Lines) to write")
    parser.add_argument("--silent", action="store_true", help="do not play prompts aloud")
    parser.add_argument("--fast", action="store_true",
                        help="feed audio as fast as the CPU allows instead of in real time")
    parser.add_argument("--name", action="append", default=[], metavar="A=NAME",
                        help="a partner's name, e.g. --name A=Alex --name B=Sam")
    parser.add_argument("--view", action="store_true",
                        help="serve the live coach view on 127.0.0.1 (address printed at start)")


def register(subparsers) -> None:
    start = subparsers.add_parser("start", help="live session with the microphone, or the demo when there is none")
    _common(start)
    start.add_argument("--device", help="input device name or index")
    start.add_argument("--second-device", help="two microphones: the second partner's device")
    start.set_defaults(handler=cmd_start)

    run = subparsers.add_parser("run", help="a live session (microphone, or --input FILE.wav)")
    _common(run)
    run.add_argument("--device", help="input device name or index (see `facilitator devices`)")
    run.add_argument("--second-device", help="two microphones: the second partner's device")
    run.add_argument("--input", type=Path, help="a recording to use instead of the microphone")
    run.add_argument("--enroll", action="append", default=[], metavar="A=FILE",
                     help="a partner's recorded enrollment (8-10 s of speech, WAV of any rate): "
                          "--enroll A=a.wav --enroll B=b.wav; without it the voices are learnt "
                          "at the start, hands-free")
    run.set_defaults(handler=cmd_run)

    demo = subparsers.add_parser("demo", help="a whole simulated session between two synthetic partners")
    _common(demo)
    demo.set_defaults(handler=cmd_demo)

    resume = subparsers.add_parser("resume", help="continue an interrupted session where it stopped")
    _common(resume)
    resume.add_argument("--device", help="input device name or index")
    resume.add_argument("--input", type=Path, help="a recording to use instead of the microphone")
    resume.add_argument("--enroll", action="append", default=[], metavar="A=FILE",
                        help="recorded enrollments, as for `run`")
    resume.set_defaults(handler=cmd_resume)

    devices = subparsers.add_parser("devices", help="list audio devices")
    devices.set_defaults(handler=lambda args: print(describe_devices()) or 0)


def _names(values: list[str]) -> dict[str, str]:
    names = {}
    for value in values:
        key, _, name = value.partition("=")
        if key.upper() not in ("A", "B") or not name:
            raise SystemExit(f"--name takes A=NAME or B=NAME, not {value!r}")
        names[key.upper()] = name
    return names


def _load_config(args):
    config = getattr(args, "loaded_config", None)
    try:
        config = config or config_module.load(args.config)
    except config_module.ConfigError as error:
        print(f"Configuration problem: {error}", file=sys.stderr)
        raise SystemExit(2)
    if getattr(args, "device", None) is not None:
        config.audio.device = args.device
    if getattr(args, "second_device", None) is not None:
        config.audio.second_device = args.second_device
    if config.audio.second_device is not None:
        config.audio.channels = 2
    return config


def _go(args, config, source, input_name: str, realtime: bool, extra_names=None, setup=None,
        resume_events=None, transcriber=None) -> int:
    from facilitator.app import RunOptions, build_session, run_session
    from facilitator.speakers.cli import parse_assignments
    from facilitator.speakers.live import SpeakerSetupError

    try:
        enroll_files = parse_assignments(getattr(args, "enroll", []) or [])
    except ValueError as error:
        source.close()
        print(f"--enroll: {error}", file=sys.stderr)
        return 2
    options = RunOptions(realtime=realtime, speak_aloud=not args.silent, record_path=args.record,
                         input_name=input_name, names={**(extra_names or {}), **_names(args.name)},
                         view=args.view, resume_events=resume_events,
                         enroll_files=enroll_files or None,
                         enroll_only=getattr(args, "enroll_only", False))
    try:
        session, writer = build_session(config, source, options, transcriber=transcriber)
    except (ModelError, ScriptError, PromptsError, SpeakerSetupError) as error:
        source.close()
        print(f"Cannot start: {error}", file=sys.stderr)
        return 2
    if setup:
        setup(session)
    reason = run_session(session, writer)
    if reason == "device_lost":
        print("The microphone was lost. Everything said so far is in the record above.", file=sys.stderr)
        return 3
    return 0 if reason in ("complete", "stopped", "input_end", "enrolled") else 1


def cmd_run(args, resume_events=None) -> int:
    config = _load_config(args)
    if args.input:
        try:
            source = FileSource(args.input, config.turns.frame_ms, realtime=not args.fast,
                                channels=config.audio.channels)
        except AudioInputError as error:
            print(f"Cannot read the input: {error}", file=sys.stderr)
            return 2
        return _go(args, config, source, str(args.input), realtime=not args.fast,
                   resume_events=resume_events)
    from facilitator.app import ROOT
    from facilitator.loading import Loading
    from facilitator.transcribe import load_transcriber

    loading = Loading(load_transcriber, config.transcription, ROOT, name="speech-model")  # while the microphone opens
    if not has_input_device():
        print("No microphone found. Connect one (see `facilitator devices`), or try the "
              "built-in demo: `facilitator demo`.", file=sys.stderr)
        return 2
    try:
        source = open_microphones(config)
        source.wait_ready()
    except AudioInputError as error:
        print(f"Microphone problem: {error}", file=sys.stderr)
        return 2
    return _go(args, config, source, source.name, realtime=True, resume_events=resume_events,
               transcriber=loading)


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


def cmd_demo(args) -> int:
    from facilitator.demo import SimulatedRoom, load_demo_lines, render_lines

    config = _load_config(args)
    names, lines = load_demo_lines()
    print("Preparing the demo: two synthetic partners, "
          f"{names['A']} and {names['B']}, rendered with espeak-ng ...")
    render_lines(lines)
    room = SimulatedRoom(lines, config.turns.frame_ms, realtime=not args.fast, echo=True)
    return _go(args, config, room, "demo", realtime=not args.fast, extra_names=names,
               setup=lambda session: session.bus.subscribe(room.listen))


def cmd_start(args) -> int:
    if has_input_device():
        args.input = None
        return cmd_run(args)
    print("No microphone found, so here is the built-in demo: a whole simulated session "
          "through the real pipeline.\n")
    return cmd_demo(args)


def cmd_resume(args) -> int:
    """Find the interrupted record (--record, else the newest without an end) and go on."""
    from facilitator.record import default_data_dir
    from facilitator.review.record import read_record

    config = _load_config(args)
    if args.record is None:
        folder = default_data_dir(config.session.data_dir) / "sessions"
        for path in sorted(folder.glob("*.jsonl"), key=lambda p: p.stat().st_mtime, reverse=True):
            events = read_record(path)
            if events and events[-1].get("type") != "end" or (
                    events and events[-1].get("reason") in ("device_lost", "error")):
                args.record = path
                break
        else:
            print(f"No interrupted session found in {folder}.", file=sys.stderr)
            return 2
    if not args.record.exists():
        print(f"No session record at {args.record}.", file=sys.stderr)
        return 2
    events = read_record(args.record)
    if not any(e.get("type") == "step" for e in events):
        print(f"{args.record} holds no dialogue step to resume from.", file=sys.stderr)
        return 2
    _repair_torn_line(args.record)
    print(f"Resuming {args.record} at step "
          f"{next(e for e in reversed(events) if e.get('type') == 'step')['name']}.")
    return cmd_run(args, resume_events=events)


def _repair_torn_line(path: Path) -> None:
    """A record cut mid-line (power cut, SIGKILL) gets its last line ended so appends stay valid."""
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with open(path, "ab") as handle:
            handle.write(b"\n")
