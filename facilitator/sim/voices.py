"""Synthetic speech with espeak-ng: the demo's two partners and the tests' voices."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np

from facilitator.audio_files import AudioFileError, read_audio
from facilitator.core import SAMPLE_RATE
from facilitator.speech_engines import SpeechError

PARTNER_VOICES = {"A": "en-us", "B": "en-us+f3"}


def speak_to_array(text: str, voice: str, rate: int = 160, sample_rate: int = SAMPLE_RATE,
                   pitch: int | None = None) -> np.ndarray:
    """`text` spoken by espeak-ng `voice`, as int16 mono at `sample_rate`."""
    binary = shutil.which("espeak-ng")
    if not binary:
        raise SpeechError("espeak-ng is not installed; run scripts/setup.sh (or apt-get install espeak-ng)")
    command = [binary, "-v", voice, "-s", str(rate), "--stdout"]
    if pitch is not None:
        command += ["-p", str(pitch)]
    done = subprocess.run(command + [text], capture_output=True, check=False, timeout=60)
    if done.returncode != 0 or not done.stdout:
        raise SpeechError(f"espeak-ng failed for voice {voice}: {done.stderr.decode(errors='replace')}")
    try:
        return read_audio(done.stdout, "mix", sample_rate, what=f"espeak-ng output for voice {voice}")
    except AudioFileError as error:
        raise SpeechError(str(error)) from None


def phrases_with_pauses(phrases: list[str], voice: str, pauses_s: list[float],
                        sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Several phrases by one speaker with the given silences between them (a paused turn)."""
    parts: list[np.ndarray] = []
    for i, phrase in enumerate(phrases):
        parts.append(speak_to_array(phrase, voice, sample_rate=sample_rate))
        if i < len(phrases) - 1:
            parts.append(np.zeros(int(pauses_s[i % len(pauses_s)] * sample_rate), np.int16))
    return np.concatenate(parts)
