"""`facilitator enroll`: learn both partners' voices and keep them for the next sessions.

    facilitator enroll --from A=a.wav --from B=b.wav     # from recordings (any rate)
    facilitator enroll                                   # hands-free, through the microphone

Hands-free, it runs the live loop's own enrollment conversation (asks each partner by
name, checks the speech, asks again) and stops there. The profiles go to `--save DIR`, else
to [speakers] profiles_dir (default <data dir>/voices), where sessions find them when
[speakers] save_profiles = true.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Iterable

from facilitator.speakers.audio import AudioFileError, load_wav
from facilitator.speakers.backends import Backend, BackendUnavailable, make_backend
from facilitator.speakers.enrollment import (
    EnrollmentError, VoiceProfile, enroll, load_profiles, save_profiles,
)
from facilitator.speakers.options import SpeakersOptions


def parse_assignments(items: Iterable[str]) -> dict[str, Path]:
    """["A=a.wav", "B=b.wav"] -> {"A": Path("a.wav"), ...}; labels must be A and B."""
    out: dict[str, Path] = {}
    for item in items:
        label, sep, path = item.partition("=")
        label = label.strip().upper()
        if not sep or label not in ("A", "B") or not path:
            raise ValueError(f"expected A=FILE or B=FILE, not {item!r}")
        out[label] = Path(path)
    return out


def enroll_files(files: dict[str, Path], options: SpeakersOptions, backend: Backend | None = None,
                 names: dict[str, str] | None = None, stereo: bool = False) -> dict[str, VoiceProfile]:
    """Profiles from recorded enrollments (WAV of any rate; mono unless `stereo`)."""
    backend = backend or make_backend(options.method)
    profiles = {}
    for label, path in sorted(files.items()):
        audio = load_wav(path, channels="keep" if stereo else "mix")
        if stereo and audio.shape[1] != 2:
            audio = audio.mean(axis=1)
        profiles[label] = enroll(label, audio, backend, (names or {}).get(label, ""),
                                 options.enroll_min_voiced_s, options.enroll_min_snr_db,
                                 options.vad_aggressiveness)
    return profiles


def _run(args: argparse.Namespace) -> int:
    from facilitator import config as config_module

    try:
        config = config_module.load(args.config)
    except config_module.ConfigError as error:
        print(f"Configuration problem: {error}", file=sys.stderr)
        return 2
    options = config.speakers
    if args.method:
        options.method = args.method
    if options.method == "turn_order":
        options.method = "gmm"
    if args.stereo or args.second_device is not None:
        config.audio.channels = 2
    names = {"A": args.name_a or config.session.partner_a,
             "B": args.name_b or config.session.partner_b}
    folder = Path(args.save).expanduser() if args.save else _profiles_dir(config)
    if not args.from_files:
        return _run_live(args, config, names, folder)
    try:
        files = parse_assignments(args.from_files)
        if set(files) != {"A", "B"}:
            print("enroll: give both partners, --from A=FILE --from B=FILE", file=sys.stderr)
            return 2
        profiles = enroll_files(files, options, make_backend(options.method), names,
                                stereo=args.stereo)
    except (ValueError, AudioFileError, BackendUnavailable) as error:
        print(f"enroll: {error}", file=sys.stderr)
        return 2
    except EnrollmentError as error:
        print(f"enroll: not enough clean speech: {error.check.reason}", file=sys.stderr)
        return 1
    save_profiles(profiles, folder)
    _report(profiles, folder)
    return 0


def _profiles_dir(config) -> Path:
    from facilitator.app import _profiles_dir as configured

    return configured(config)


def _run_live(args: argparse.Namespace, config, names: dict[str, str], folder: Path) -> int:
    """The live loop's enrollment conversation, then stop; profiles saved to `folder`."""
    from facilitator.commands_run import cmd_run

    config.speakers.save_profiles = True
    config.speakers.profiles_dir = str(folder)
    folder.mkdir(parents=True, exist_ok=True)
    record = folder / "last-enrollment.jsonl"
    record.unlink(missing_ok=True)
    run_args = argparse.Namespace(
        config=args.config, input=args.input, device=args.device,
        second_device=args.second_device, fast=args.fast,
        silent=args.silent, record=record, name=[f"A={names['A']}", f"B={names['B']}"],
        view=False, enroll=[], enroll_only=True, loaded_config=config)
    code = cmd_run(run_args)
    profiles = load_profiles(folder)
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
        description="Learn both partners' voices. With --from, from recordings (WAV, any "
                    "rate); without, asks each partner by name through the microphone "
                    "(or a recording of that conversation, --input).")
    parser.add_argument("--from", dest="from_files", action="append", default=[],
                        metavar="A=FILE", help="a partner's recording; give A= and B=")
    parser.add_argument("--save", metavar="DIR",
                        help="keep the voice profiles in DIR (default: [speakers] profiles_dir)")
    parser.add_argument("--method", default=None, choices=("auto", "campplus", "gmm", "dvector"))
    parser.add_argument("--stereo", action="store_true",
                        help="two microphones, one per partner: calibrate the channel levels too")
    parser.add_argument("--device", default=None, help="microphone (name or index)")
    parser.add_argument("--second-device", default=None,
                        help="two microphones on two devices: the second one (implies --stereo)")
    parser.add_argument("--input", type=Path, default=None,
                        help="a recording of the enrollment conversation instead of the microphone")
    parser.add_argument("--fast", action="store_true", help="with --input: as fast as the CPU allows")
    parser.add_argument("--silent", action="store_true", help="do not speak the requests aloud")
    parser.add_argument("--name-a", default=None, help="name the facilitator calls partner A")
    parser.add_argument("--name-b", default=None, help="name the facilitator calls partner B")
    parser.set_defaults(handler=_run)
