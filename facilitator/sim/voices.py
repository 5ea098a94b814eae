"""Synthetic speech: the simulated partners' voices (the demo's, `simulate`'s, the tests').

A voice is an espeak-ng voice name ("en-us+m7") or a Piper voice "piper:NAME" ("piper:joe",
or "piper:/path/to/voice.onnx"). A Piper voice may carry a pitch variant, so that two
partners both spoken by joe sound like two people: "piper:joe+low" (deeper, 0.85),
"piper:joe+high" (higher, 1.15) or a factor "piper:joe+0.9" (0.7 to 1.4). The variant is
rendered that much longer and then read at the voice's rate times the factor, which moves
pitch and formants together (like a larger or smaller person) and keeps the length.
Piper voices are rendered without their random noise, so a line sounds the same every
time, like espeak-ng's. Either way the result is int16 mono at 16 kHz (or `sample_rate`).
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np

from facilitator.audio_files import AudioFileError, read_audio, resample
from facilitator.core import SAMPLE_RATE, to_int16
from facilitator.speech_engines import SpeechError
from facilitator.speech_piper import find_voice, installed_voices, loaded_voice, piper_missing

PARTNER_VOICES = {"A": "en-us", "B": "en-us+f3"}
PIPER_PREFIX = "piper:"
PITCH_VARIANTS = {"low": 0.85, "high": 1.15}


def speak_to_array(text: str, voice: str, rate: int = 160, sample_rate: int = SAMPLE_RATE,
                   pitch: int | None = None) -> np.ndarray:
    """`text` spoken by `voice` (espeak-ng's, or "piper:..."), as int16 mono at `sample_rate`.
    `pitch` is espeak-ng's 0..99 (50 = the voice's own); for Piper it shifts the pitch too."""
    if voice.startswith(PIPER_PREFIX):
        return _piper_to_array(text, voice, rate, sample_rate, pitch)
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


def piper_voice_spec(voice: str) -> tuple[str, float]:
    """("joe", pitch factor) from "piper:joe+low"; SpeechError naming the voices there are."""
    spec = voice[len(PIPER_PREFIX):].strip()
    name, _, variant = (spec.rpartition("+") if "+" in spec and not spec.endswith(".onnx")
                        else (spec, "", ""))
    factor = 1.0
    if variant:
        try:
            factor = PITCH_VARIANTS[variant] if variant in PITCH_VARIANTS else float(variant)
        except ValueError:
            factor = 0.0
        if not 0.7 <= factor <= 1.4:
            raise SpeechError(f"unknown variant '+{variant}' in voice '{voice}': use +low, +high "
                              "or a pitch factor from 0.7 to 1.4 (\"piper:joe+0.9\")")
    problem = piper_missing()
    if problem:
        raise SpeechError(f"voice '{voice}' needs Piper: {problem}")
    try:
        find_voice(name)
    except SpeechError as error:
        if not (name.endswith(".onnx") or "/" in name):
            installed = ", ".join(installed_voices()) or "none"
            raise SpeechError(f"unknown voice '{voice}': the Piper voices installed are: {installed}"
                              " (or \"piper:/path/to/voice.onnx\")") from None
        raise SpeechError(f"voice '{voice}': {error}") from None
    return name, factor


def _piper_to_array(text: str, voice: str, rate: int, sample_rate: int,
                    pitch: int | None) -> np.ndarray:
    name, factor = piper_voice_spec(voice)
    if pitch is not None:
        factor *= 2.0 ** ((int(pitch) - 50) / 100.0)
    rendered = loaded_voice(find_voice(name)).render(text, rate / factor, 0.9, natural=False)
    played_rate = int(round(rendered.rate * factor))      # read faster or slower: the pitch moves
    return to_int16(resample(rendered.samples, played_rate, sample_rate))


def phrases_with_pauses(phrases: list[str], voice: str, pauses_s: list[float],
                        sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Several phrases by one speaker with the given silences between them (a paused turn)."""
    parts: list[np.ndarray] = []
    for i, phrase in enumerate(phrases):
        parts.append(speak_to_array(phrase, voice, sample_rate=sample_rate))
        if i < len(phrases) - 1:
            parts.append(np.zeros(int(pauses_s[i % len(pauses_s)] * sample_rate), np.int16))
    return np.concatenate(parts)
