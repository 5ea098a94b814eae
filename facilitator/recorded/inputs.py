"""The recording and the voice samples of `facilitator analyze`, read and checked.

Any container and codec PyAV decodes, at any rate (`facilitator.audio_files`), as float32 at
16 kHz: a stereo recording whose two channels differ is kept as two microphones, (n, 2);
anything else is mixed down to mono. Every problem is an `InputError` whose message names
the file and what to give instead; nothing is written before the inputs are known good.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facilitator.audio_files import AudioFileError, read_audio
from facilitator.core import SAMPLE_RATE

# Two channels are two microphones when they differ by more than this share of their level
# (a mono recording saved as stereo has identical, or nearly identical, channels).
CHANNELS_DIFFER = 0.05
MIN_ENROLL_S = 3.0


class InputError(Exception):
    """A recording that cannot be analysed, worded with the fix."""


@dataclass(frozen=True)
class Recording:
    audio: np.ndarray          # float32 at 16 kHz: (n,) mono or (n, 2) two microphones
    path: Path

    @property
    def duration(self) -> float:
        return self.audio.shape[0] / SAMPLE_RATE

    @property
    def two_microphones(self) -> bool:
        return self.audio.ndim == 2

    def mono(self) -> np.ndarray:
        return self.audio.mean(axis=1) if self.audio.ndim == 2 else self.audio


def channels_differ(stereo: np.ndarray) -> bool:
    left, right = stereo[:, 0].astype(np.float32), stereo[:, 1].astype(np.float32)
    level = float(np.abs(left).mean() + np.abs(right).mean())
    if level <= 1e-6:
        return False
    return float(np.abs(left - right).mean()) / level > CHANNELS_DIFFER


def read_recording(path: Path) -> Recording:
    """The recording to analyse; raises InputError (missing, empty, not audio, damaged)."""
    try:
        audio = read_audio(path, channels="keep", what="recording")
    except AudioFileError as error:
        raise InputError(f"cannot analyse {path}: {error}") from None
    if audio.shape[0] == 0:
        raise InputError(f"cannot analyse {path}: it holds no sound (0 samples); give a "
                         "recording of the dialogue")
    samples = audio.astype(np.float32) / 32768.0
    if samples.shape[1] == 2 and channels_differ(samples):
        return Recording(np.ascontiguousarray(samples), path)
    return Recording(np.ascontiguousarray(samples.mean(axis=1, dtype=np.float32)), path)


def read_enrollments(files: dict[str, Path]) -> dict[str, np.ndarray]:
    """The partners' voice samples (--enroll A=a.wav), mono float32 at 16 kHz."""
    samples: dict[str, np.ndarray] = {}
    for label, path in sorted(files.items()):
        try:
            audio = read_audio(path, channels="mix", what="enrollment recording")
        except AudioFileError as error:
            raise InputError(f"--enroll {label}={path}: {error}") from None
        if audio.shape[0] < MIN_ENROLL_S * SAMPLE_RATE:
            raise InputError(f"--enroll {label}={path}: the recording is too short "
                             f"({audio.shape[0] / SAMPLE_RATE:.1f} s); give 8-10 s of that "
                             "partner's speech")
        samples[label] = audio.astype(np.float32) / 32768.0
    if samples and set(samples) != {"A", "B"}:
        missing = ({"A", "B"} - set(samples)).pop()
        raise InputError(f"--enroll gives one partner's voice only: add --enroll {missing}=FILE "
                         "(or give neither, and the two voices are told apart by themselves)")
    return samples


def parse_pairs(values: list[str], option: str) -> dict[str, str]:
    """["A=x", "B=y"] -> {"A": "x", "B": "y"}; raises InputError on anything else."""
    pairs: dict[str, str] = {}
    for value in values:
        key, sep, rest = value.partition("=")
        key = key.strip().upper()
        if not sep or key not in ("A", "B") or not rest.strip():
            raise InputError(f"{option} takes A=... or B=... (e.g. {option} A=alex.wav), not {value!r}")
        pairs[key] = rest.strip()
    return pairs
