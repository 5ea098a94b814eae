"""Sub-commands of the live loop: `run` (the microphone, or a recording of a session held with
the facilitator) and `devices`; and what every session command shares (the common options,
the config, the checks made before anything loads, building and running the session).
`start`, `simulate`, `demo` and `resume` are in facilitator/commands_sim.py."""

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


def common_options(parser: argparse.ArgumentParser, fast: bool = True) -> None:
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


def device_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", metavar="NAME_OR_INDEX",
                        help="input device: part of its name or its index (see `facilitator devices`)")
    parser.add_argument("--second-device", metavar="NAME_OR_INDEX",
                        help="two microphones, one per partner: the second partner's device")


def enroll_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--enroll", action="append", default=[], metavar="A=FILE",
                        help="a partner's recorded voice sample (8-10 s of speech, WAV of any "
                             "rate): --enroll A=a.wav --enroll B=b.wav; without it the voices "
                             "are learnt at the start, hands-free")


def register(subparsers) -> None:
    run = subparsers.add_parser(
        "run", help="a live session: the microphone, or --input FILE, a recording of a session "
                    "held with the facilitator",
        description="A live session through the microphone. `--input FILE` stands in for the "
                    "microphone with a recording of a session held with the facilitator (the "
                    "couple waited for its prompts). A recording made without it does not wait "
                    "for the prompts, so turns are lost while they are spoken: review such a "
                    "dialogue with `facilitator analyze`, or drive a whole session with any "
                    "voices or recordings as the partners with `facilitator simulate`.")
    common_options(run)
    device_options(run)
    run.add_argument("--input", type=Path, metavar="FILE",
                     help="a recording of a session held with the facilitator (WAV, FLAC, MP3, "
                          "...), played in place of the microphone; for a dialogue recorded "
                          "without it see `analyze`, for scripted partners `simulate`")
    enroll_option(run)
    run.set_defaults(handler=cmd_run)

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


def load_config(args):
    config = config_module.load_for_command(args.config)
    return with_devices(config, getattr(args, "device", None), getattr(args, "second_device", None))


_load_config = load_config


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


def go(args, config, source, input_name: str, realtime: bool, extra_names=None, setup=None,
       resume_events=None, transcriber=None, enroll_files=None) -> int:
    """Build the session on `source` and run it; the exit code. `setup(session, writer)` is
    called once it is built (a simulated room attaches to its bus); `enroll_files` are the
    voice samples when `--enroll` gives none."""
    from facilitator.app import RunOptions, build_session, run_session
    from facilitator.speakers.recordings import parse_assignments

    try:
        enroll_files = parse_assignments(getattr(args, "enroll", []) or []) or enroll_files
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
        setup(session, writer)
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


def refuse_bad_arguments(args, resume_events) -> int:
    """2 (after a message) when --record or --name cannot be used, before anything loads."""
    try:
        _check_record(args, resuming=resume_events is not None)
        _names(args.name)
    except UsageError as error:
        print(error, file=sys.stderr)
        return 2
    return 0


def cmd_run(args, resume_events=None) -> int:
    config = load_config(args)
    refused = refuse_bad_arguments(args, resume_events)
    if refused:
        return refused
    opened = open_input(config, args.input, args.fast)
    if isinstance(opened, int):
        return opened
    source, input_name, realtime, transcriber = opened
    return go(args, config, source, input_name, realtime=realtime, resume_events=resume_events,
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
