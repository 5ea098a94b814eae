"""Synthetic speech with espeak-ng: the demo's two partners and the tests' voices."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np

from facilitator.audio_in import resample
from facilitator.speech_out import SpeechError, _decode_wav

PARTNER_VOICES = {"A": "en-us", "B": "en-us+f3"}


def speak_to_array(text: str, voice: str, rate: int = 160, sample_rate: int = 16000,
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
    rendered = _decode_wav(done.stdout)
    samples = resample(rendered.samples, rendered.rate, sample_rate)
    return (np.clip(samples, -1, 1) * 32767).astype(np.int16)


def phrases_with_pauses(phrases: list[str], voice: str, pauses_s: list[float],
                        sample_rate: int = 16000) -> np.ndarray:
    """Several phrases by one speaker with the given silences between them (a paused turn)."""
    parts: list[np.ndarray] = []
    for i, phrase in enumerate(phrases):
        parts.append(speak_to_array(phrase, voice, sample_rate=sample_rate))
        if i < len(phrases) - 1:
            parts.append(np.zeros(int(pauses_s[i % len(pauses_s)] * sample_rate), np.int16))
    return np.concatenate(parts)
