"""Recorded enrollments: which partner's recording is which (`A=a.wav`), whether a file
can be a recording at all, and the voice profiles made from recordings (`enroll_files`).
Used by `facilitator run --enroll`, `facilitator enroll --enroll` and the live setup.
"""

from __future__ import annotations

import struct
import wave
from pathlib import Path
from typing import Iterable

import numpy as np

from facilitator.speakers.audio import AudioFileError, load_wav
from facilitator.speakers.backends import Backend, make_backend
from facilitator.speakers.enrollment import EnrollmentError, enroll
from facilitator.speakers.options import SpeakersOptions
from facilitator.speakers.profiles import VoiceProfile

RECORDING_FIX = ("Give a WAV recording (any rate) of 8-10 s of that partner's speech: "
                 "--enroll A=a.wav --enroll B=b.wav.")


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


def recording_problem(path: str | Path) -> str | None:
    """Why `path` cannot be a recording, from cheap checks (no decoding), or None."""
    path = Path(path)
    try:
        if not path.exists():
            return "no such file"
        if path.is_dir():
            return "it is a folder, not a recording"
        with path.open("rb") as handle:
            head = handle.read(12)
    except PermissionError:
        return "permission denied"
    except OSError as error:
        return error.strerror or str(error)
    if not head:
        return "the file is empty"
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return "it is not an audio file (WAV)"
    return None


def read_recording(path: str | Path, stereo: bool = False) -> np.ndarray:
    """A recorded enrollment as float32 at 16 kHz (mono, or (n, 2) when `stereo`).

    Raises AudioFileError "cannot read the enrollment recording a.wav: <why>"."""
    problem = recording_problem(path)
    audio = None
    if problem is None:
        try:
            audio = load_wav(path, channels="keep" if stereo else "mix")
        except (AudioFileError, wave.Error, EOFError, ValueError, OSError, RuntimeError,
                struct.error):   # the wave module's ways of meeting a broken file
            problem = ("it is a WAV file that cannot be read (truncated, or not uncompressed "
                       "PCM: save it again as 16-bit PCM WAV)")
        else:
            if audio.shape[0] == 0:
                problem = "the recording is empty (no sound in it)"
    if problem is not None:
        raise AudioFileError(f"cannot read the enrollment recording {path}: {problem}")
    if stereo and audio.shape[1] != 2:
        audio = audio.mean(axis=1)
    return audio


def enroll_files(files: dict[str, Path], options: SpeakersOptions, backend: Backend | None = None,
                 names: dict[str, str] | None = None, stereo: bool = False) -> dict[str, VoiceProfile]:
    """Profiles from recorded enrollments (WAV of any rate; mono unless `stereo`).

    Raises AudioFileError naming a file that cannot be read, and EnrollmentError (with
    `.path` and `.label` set) for one with too little clean speech."""
    audio = {label: read_recording(path, stereo) for label, path in sorted(files.items())}
    backend = backend or make_backend(options.method)
    profiles = {}
    for label, path in sorted(files.items()):
        try:
            profiles[label] = enroll(label, audio[label], backend, (names or {}).get(label, ""),
                                     options.enroll_min_voiced_s, options.enroll_min_snr_db,
                                     options.vad_aggressiveness)
        except EnrollmentError as error:
            error.path, error.label = path, label
            raise
    return profiles
