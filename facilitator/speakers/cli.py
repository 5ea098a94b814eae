"""`facilitator enroll`: learn both partners' voices and keep them for the next sessions.

    facilitator enroll --enroll A=a.wav --enroll B=b.wav     # from recordings (any rate)
    facilitator enroll --name A=Alex --name B=Sam            # hands-free, through the microphone

The same words as `facilitator run`: `--name A=NAME` names a partner, `--enroll A=FILE`
gives a partner's recording (`--from`, `--name-a` and `--name-b` are old spellings, still
accepted). Hands-free, it runs the live loop's own enrollment conversation (asks each
partner by name, checks the speech, asks again) and stops there. The profiles go to
`--save DIR`, else to [speakers] profiles_dir (default <data dir>/voices), where sessions
find them when [speakers] save_profiles = true.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Iterable

from facilitator.paths import profiles_dir
from facilitator.speakers.audio import AudioFileError
from facilitator.speakers.backends import BackendUnavailable
from facilitator.speakers.enrollment import EnrollmentError
from facilitator.speakers.profiles import VoiceProfile, save_profiles
from facilitator.speakers.recordings import (  # noqa: F401 (importable from here, as before)
    RECORDING_FIX, enroll_files, parse_assignments, read_recording, recording_problem,
)


def parse_names(items: Iterable[str]) -> dict[str, str]:
    """["A=Alex", "B=Sam"] -> {"A": "Alex", "B": "Sam"}; raises ValueError on anything else."""
    out: dict[str, str] = {}
    for item in items:
        label, sep, name = item.partition("=")
        label = label.strip().upper()
        if not sep or label not in ("A", "B") or not name.strip():
            raise ValueError(f"--name takes A=NAME or B=NAME (e.g. --name A=Alex), not {item!r}")
        out[label] = name.strip()
    return out


def _names(args: argparse.Namespace, config) -> dict[str, str]:
    names = {"A": args.name_a or config.session.partner_a,
             "B": args.name_b or config.session.partner_b}
    names.update(parse_names(args.name))
    return names


def _run(args: argparse.Namespace) -> int:
    from facilitator import config as config_module

    config = config_module.load_for_command(args.config)
    method = args.method or config.speakers.method
    config = config.with_changes(speakers={"method": "gmm" if method == "turn_order" else method})
    if args.stereo or args.second_device is not None:
        config = config.with_changes(audio={"channels": 2})
    options = config.speakers
    try:
        names = _names(args, config)
        files = parse_assignments(args.enroll)
    except ValueError as error:
        print(f"enroll: {error}", file=sys.stderr)
        return 2
    folder = (Path(args.save).expanduser() if args.save
              else profiles_dir(config.speakers.profiles_dir, config.session.data_dir))
    if not files:
        return _run_live(args, config, names, folder)
    if set(files) != {"A", "B"}:
        print("enroll: give both partners' recordings, --enroll A=FILE --enroll B=FILE",
              file=sys.stderr)
        return 2
    try:
        profiles = enroll_files(files, options, None, names, stereo=args.stereo)
    except AudioFileError as error:
        print(f"enroll: {error}. {RECORDING_FIX}", file=sys.stderr)
        return 2
    except BackendUnavailable as error:
        print(f"enroll: voice model {options.method!r}: {error}", file=sys.stderr)
        return 2
    except EnrollmentError as error:
        print(f"enroll: not enough clean speech in {error.path}: {error.check.reason} "
              "Record 8-10 s of speech.", file=sys.stderr)
        return 1
    save_profiles(profiles, folder)
    _report(profiles, folder)
    return 0


def _run_live(args: argparse.Namespace, config, names: dict[str, str], folder: Path) -> int:
    """The live loop's enrollment conversation (`app.enroll_voices`), then stop; profiles
    saved to `folder`."""
    from facilitator import app, commands_run

    config = commands_run.with_devices(config, args.device, args.second_device)
    opened = commands_run.open_input(config, args.input, args.fast)
    profiles: dict[str, VoiceProfile] = {}
    if isinstance(opened, int):
        code = opened
    else:
        source, input_name, realtime, transcriber = opened
        try:
            enrolled = app.enroll_voices(config, source, names, folder,
                                         record_path=folder / "last-enrollment.jsonl",
                                         realtime=realtime, speak_aloud=not args.silent,
                                         input_name=input_name, transcriber=transcriber)
        except commands_run.start_errors() as error:
            code = commands_run.cannot_start(source, error)
        else:
            code, profiles = commands_run.exit_code(enrolled.reason), enrolled.profiles
    if set(profiles) != {"A", "B"} or code != 0:
        print("enroll: the voices were not learnt; see the messages above.", file=sys.stderr)
        return code or 1
    _report(profiles, folder)
    return 0


def _report(profiles: dict[str, VoiceProfile], folder: Path) -> None:
    for label, profile in sorted(profiles.items()):
        print(f"{label} ({profile.name}): {profile.voiced_s:.1f} s of speech, "
              f"{profile.snr_db:.0f} dB above the noise")
    print(f"Voice profiles saved in {folder}. Sessions use them when config.toml has "
          "[speakers] save_profiles = true" + (f" and profiles_dir = \"{folder}\"." if folder else "."))


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "enroll", help="learn both partners' voices and keep them for later sessions",
        description="Learn both partners' voices and save them for later sessions. With "
                    "--enroll A=FILE --enroll B=FILE, from recordings (WAV, any rate, 8-10 s "
                    "of speech each); without, asks each partner by name through the "
                    "microphone (or a recording of that conversation, --input).")
    parser.add_argument("--enroll", action="append", default=[], metavar="A=FILE",
                        help="a partner's recorded enrollment (WAV, any rate, 8-10 s of speech): "
                             "--enroll A=a.wav --enroll B=b.wav; without it the partners are "
                             "asked through the microphone")
    parser.add_argument("--name", action="append", default=[], metavar="A=NAME",
                        help="a partner's name, spoken when asking: --name A=Alex --name B=Sam")
    parser.add_argument("--save", metavar="DIR",
                        help="keep the voice profiles in DIR (default: [speakers] profiles_dir)")
    parser.add_argument("--method", default=None, choices=("auto", "campplus", "gmm", "dvector"),
                        help="voice model to learn (default: [speakers] method; auto = campplus "
                             "when installed, else gmm)")
    parser.add_argument("--stereo", action="store_true",
                        help="two microphones, one per partner: calibrate the channel levels too")
    parser.add_argument("--device", default=None, help="microphone (name or index)")
    parser.add_argument("--second-device", default=None,
                        help="two microphones on two devices: the second one (implies --stereo)")
    parser.add_argument("--input", type=Path, default=None,
                        help="a recording of the enrollment conversation instead of the microphone")
    parser.add_argument("--fast", action="store_true", help="with --input: as fast as the CPU allows")
    parser.add_argument("--silent", action="store_true", help="do not speak the requests aloud")
    # old spellings, kept working but not shown
    parser.add_argument("--from", dest="enroll", action="append", metavar="A=FILE",
                        help=argparse.SUPPRESS)
    parser.add_argument("--name-a", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--name-b", default=None, help=argparse.SUPPRESS)
    parser.set_defaults(handler=_run)
