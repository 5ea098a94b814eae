"""Audio helpers for the speaker room: read a recording, write a WAV, find voiced frames.

Everything here works on mono float32 arrays in [-1, 1] at 16 kHz (`SAMPLE_RATE`), the
rate the rest of the room expects. Reading and resampling are the shared toolkit's
(`facilitator.audio_files`); voiced frames come from webrtcvad.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from facilitator.audio_files import AudioFileError, read_audio, resample  # noqa: F401  (the room's API)
from facilitator.core import SAMPLE_RATE, to_float32, to_int16

VAD_FRAME_MS = 30


def load_wav(path: str | Path, target: int = SAMPLE_RATE, channels: str = "mix") -> np.ndarray:
    """A recording (WAV of any rate and sample type, FLAC, MP3, ...) as float32 at `target` Hz.

    `channels="mix"` averages the channels to mono (the usual case); `"keep"` returns an
    array of shape (samples, channels) so stereo two-microphone recordings stay split.
    Raises AudioFileError naming the file and what is wrong with it.
    """
    return to_float32(read_audio(path, channels, target, what="recording"))


def save_wav(path: str | Path, audio: np.ndarray, rate: int = SAMPLE_RATE) -> None:
    """Write float32 audio (mono, or (samples, channels)) as 16-bit PCM."""
    audio = np.asarray(audio, dtype=np.float32)
    n_channels = 1 if audio.ndim == 1 else audio.shape[1]
    pcm = to_int16(audio).astype("<i2")
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(n_channels)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(pcm.tobytes())


def voiced_mask(audio: np.ndarray, aggressiveness: int = 2, frame_ms: int = VAD_FRAME_MS,
                rate: int = SAMPLE_RATE) -> np.ndarray:
    """webrtcvad decision per `frame_ms` frame (True = speech), for mono float32 audio.

    Frames far below the loudest part of the recording are never speech, which keeps
    webrtcvad from calling faint noise voiced.
    """
    import webrtcvad

    vad = webrtcvad.Vad(aggressiveness)
    step = rate * frame_ms // 1000
    n = audio.size // step
    if n == 0:
        return np.zeros(0, bool)
    frames = np.asarray(audio[: n * step], np.float32).reshape(n, step)
    pcm = to_int16(frames).astype("<i2")
    levels = 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-12)
    loud_enough = levels > max(np.percentile(levels, 95) - 40.0, -75.0)
    return np.array(
        [bool(ok) and vad.is_speech(pcm[i].tobytes(), rate) for i, ok in enumerate(loud_enough)]
    )


def frame_levels_db(audio: np.ndarray, frame: int, hop: int) -> np.ndarray:
    """Mean power in dB of each frame (length `frame`, step `hop`) of mono audio."""
    audio = np.asarray(audio, np.float64)
    if audio.size < frame:
        return np.zeros(0)
    n = 1 + (audio.size - frame) // hop
    idx = np.arange(frame)[None, :] + hop * np.arange(n)[:, None]
    return 10 * np.log10(np.mean(audio[idx] ** 2, axis=1) + 1e-12)
