"""The recording and the voice samples of `facilitator analyze`, read and checked.

Any container and codec PyAV decodes, at any rate (`facilitator.audio_files`), as int16 at
16 kHz (an hour in 115 MB; the rooms take float32 a block at a time): a stereo recording
whose two channels differ is kept as two microphones, (n, 2); anything else is mixed down
to mono. Every problem is an `InputError` whose message names
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


MIX_BLOCK = 1 << 20        # samples mixed down at once
DIFFER_SAMPLES = 2_000_000 # at most this many samples compared to tell two microphones


@dataclass(frozen=True)
class Recording:
    audio: np.ndarray          # int16 at 16 kHz: (n,) mono or (n, 2) two microphones
    path: Path

    @property
    def duration(self) -> float:
        return self.audio.shape[0] / SAMPLE_RATE

    @property
    def two_microphones(self) -> bool:
        return self.audio.ndim == 2

    def mono(self, lo: int = 0, hi: int | None = None) -> np.ndarray:
        """Samples [lo, hi) as mono float32 in -1..1 (two microphones averaged)."""
        block = self.audio[lo:hi].astype(np.float32) / 32768.0
        return block.mean(axis=1) if block.ndim == 2 else block

    def peak(self) -> float:
        """The largest magnitude anywhere, 0..1 (no copy of the audio)."""
        if self.audio.size == 0:
            return 0.0
        return max(int(self.audio.max()), -int(self.audio.min())) / 32768.0


def channels_differ(stereo: np.ndarray) -> bool:
    sample = stereo[:: max(1, stereo.shape[0] // DIFFER_SAMPLES)].astype(np.float32)
    left, right = sample[:, 0], sample[:, 1]
    level = float(np.abs(left).mean() + np.abs(right).mean())
    if level <= 1e-6 * 32768:
        return False
    return float(np.abs(left - right).mean()) / level > CHANNELS_DIFFER


def mixed_down(stereo: np.ndarray) -> np.ndarray:
    """(n, 2) int16 as (n,) int16, the channels averaged a block at a time."""
    mono = np.empty(stereo.shape[0], np.int16)
    for lo in range(0, stereo.shape[0], MIX_BLOCK):
        block = stereo[lo: lo + MIX_BLOCK].astype(np.int32)
        mono[lo: lo + MIX_BLOCK] = (block.sum(axis=1) // block.shape[1]).astype(np.int16)
    return mono


def read_recording(path: Path) -> Recording:
    """The recording to analyse; raises InputError (missing, empty, not audio, damaged)."""
    try:
        audio = read_audio(path, channels="keep", what="recording")
    except AudioFileError as error:
        raise InputError(f"cannot analyse {path}: {error}") from None
    if audio.shape[0] == 0:
        raise InputError(f"cannot analyse {path}: it holds no sound (0 samples); give a "
                         "recording of the dialogue")
    if audio.shape[1] == 2 and channels_differ(audio):
        return Recording(np.ascontiguousarray(audio), path)
    return Recording(audio[:, 0].copy() if audio.shape[1] == 1 else mixed_down(audio), path)


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
