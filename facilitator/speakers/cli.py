"""`facilitator enroll`: learn both partners' voices from WAV files or the microphone.

    facilitator enroll --from A=a.wav --from B=b.wav --save DIR
    facilitator enroll --save DIR                 # asks each partner through the microphone

`enroll_live(...)` is the hands-free loop the live session calls: it asks each partner by
name, listens, checks, and asks again when the sample was too short, silent or noisy.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from facilitator.speakers.audio import SAMPLE_RATE, AudioFileError, load_wav
from facilitator.speakers.backends import Backend, BackendUnavailable, make_backend
from facilitator.speakers.enrollment import (
    EnrollmentError, VoiceProfile, check_enrollment, enroll, save_profiles,
)
from facilitator.speakers.options import SpeakersOptions

# What the facilitator says; the lead moves these into prompts/ (keys as in the report).
PROMPTS = {
    "ask": "{name}, please tell me in a sentence or two how your day has been, "
           "so I can learn your voice.",
    "again_too_short": "Thank you, {name}. Could you say a little more? "
                       "Two or three sentences, please.",
    "again_silent": "{name}, I did not hear you. Please speak a sentence or two, "
                    "a little closer to the microphone.",
    "again_too_noisy": "{name}, it was a bit noisy. Could you say that once more, "
                       "a little louder or closer to the microphone?",
    "done": "Thank you, {name}. I know your voice now.",
    "failed": "I could not learn {name}'s voice. I will go by turn order instead.",
}

FrameSource = Callable[[float], np.ndarray]   # seconds -> audio (mono or (n, 2)) at 16 kHz
Say = Callable[[str], None]


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


def enroll_live(listen: FrameSource, say: Say, names: dict[str, str],
                options: SpeakersOptions | None = None, backend: Backend | None = None,
                prompts: dict[str, str] | None = None,
                on_event: Callable[[dict], None] | None = None) -> dict[str, VoiceProfile]:
    """Hands-free enrollment: ask each partner by name, listen, check, ask again.

    `listen(seconds)` returns that much audio from the microphone (16 kHz float32, mono or
    two channels); `say(text)` speaks a prompt and returns when it has been spoken.
    Partners whose voice could not be learnt after `enroll_max_tries` are left out (the
    caller falls back to turn order for them). Publishes {"type": "enrollment", ...}
    events through `on_event`.
    """
    options = options or SpeakersOptions()
    backend = backend or make_backend(options.method)
    text = {**PROMPTS, **(prompts or {})}
    profiles: dict[str, VoiceProfile] = {}
    for label in ("A", "B"):
        name = names.get(label, f"Partner {label}")
        say(text["ask"].format(name=name))
        for attempt in range(1, options.enroll_max_tries + 1):
            audio = np.asarray(listen(options.enroll_record_s), np.float32)
            mono = audio.mean(axis=1) if audio.ndim == 2 else audio
            check = check_enrollment(mono, options.enroll_min_voiced_s,
                                     options.enroll_min_snr_db, options.vad_aggressiveness)
            if on_event:
                on_event({"type": "enrollment", "speaker": label, "attempt": attempt,
                          "ok": check.ok, "problem": check.problem, "reason": check.reason,
                          "voiced_s": round(check.voiced_s, 2), "snr_db": round(check.snr_db, 1)})
            if check.ok:
                profiles[label] = enroll(label, audio, backend, name, options.enroll_min_voiced_s,
                                         options.enroll_min_snr_db, options.vad_aggressiveness)
                say(text["done"].format(name=name))
                break
            if attempt < options.enroll_max_tries:
                say(text[f"again_{(check.problem or 'silent').replace(' ', '_')}"].format(name=name))
        else:
            say(text["failed"].format(name=name))
    return profiles


def microphone_source(device: str | int | None = None, channels: int = 1) -> FrameSource:
    """A `listen(seconds)` reading the sound card at 16 kHz through sounddevice."""
    def listen(seconds: float) -> np.ndarray:
        import sounddevice as sd

        audio = sd.rec(int(seconds * SAMPLE_RATE), samplerate=SAMPLE_RATE, channels=channels,
                       dtype="float32", device=device)
        sd.wait()
        return audio[:, 0] if channels == 1 else audio
    return listen


def _run(args: argparse.Namespace) -> int:
    options = SpeakersOptions(method=args.method)
    try:
        backend = make_backend(options.method)
        if args.from_files:
            files = parse_assignments(args.from_files)
            if set(files) != {"A", "B"}:
                print("enroll: give both partners, --from A=FILE --from B=FILE", file=sys.stderr)
                return 2
            profiles = enroll_files(files, options, backend, stereo=args.stereo)
        else:
            def say(text: str) -> None:
                print(text)
            profiles = enroll_live(microphone_source(args.device, 2 if args.stereo else 1), say,
                                   {"A": args.name_a, "B": args.name_b}, options, backend)
    except (ValueError, AudioFileError, BackendUnavailable) as error:
        print(f"enroll: {error}", file=sys.stderr)
        return 2
    except EnrollmentError as error:
        print(f"enroll: not enough clean speech: {error.check.reason}", file=sys.stderr)
        return 1
    for label, profile in sorted(profiles.items()):
        print(f"{label} ({profile.name}): {profile.voiced_s:.1f} s of speech, "
              f"{profile.snr_db:.0f} dB above the noise")
    if len(profiles) < 2:
        print("enroll: only one voice learnt", file=sys.stderr)
        return 1
    if args.save:
        written = save_profiles(profiles, args.save)
        print(f"saved {len(written)} files to {args.save}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "enroll", help="learn both partners' voices (from WAV files or the microphone)",
        description="Learn both partners' voices. With --from, from recordings (WAV, any "
                    "rate); without, asks each partner through the microphone.")
    parser.add_argument("--from", dest="from_files", action="append", default=[],
                        metavar="A=FILE", help="a partner's recording; give A= and B=")
    parser.add_argument("--save", metavar="DIR", help="keep the voice profiles in DIR")
    parser.add_argument("--method", default="gmm", choices=("gmm", "dvector"))
    parser.add_argument("--stereo", action="store_true",
                        help="two-microphone recordings: keep both channels for calibration")
    parser.add_argument("--device", default=None, help="microphone (name or index)")
    parser.add_argument("--name-a", default="Partner A")
    parser.add_argument("--name-b", default="Partner B")
    parser.set_defaults(handler=_run)
