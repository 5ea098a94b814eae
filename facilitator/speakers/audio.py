"""Audio helpers for the speaker room: read a WAV of any rate, resample, find voiced frames.

Everything here works on mono float32 arrays in [-1, 1] at 16 kHz (`SAMPLE_RATE`), the
rate the rest of the room expects. Only numpy, the standard library and webrtcvad.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000
VAD_FRAME_MS = 30


class AudioFileError(Exception):
    """A recording that cannot be read, worded for the person who gave it."""


def resample(audio: np.ndarray, rate: int, target: int = SAMPLE_RATE) -> np.ndarray:
    """Resample mono audio from `rate` to `target` Hz (FFT method, band-limited)."""
    audio = np.asarray(audio, dtype=np.float32)
    if rate == target or audio.size == 0:
        return audio
    n_out = int(round(audio.size * target / rate))
    spectrum = np.fft.rfft(audio.astype(np.float64))
    n_bins = n_out // 2 + 1
    if n_bins <= spectrum.size:
        spectrum = spectrum[:n_bins]
    else:
        spectrum = np.concatenate([spectrum, np.zeros(n_bins - spectrum.size, complex)])
    out = np.fft.irfft(spectrum, n_out) * (n_out / audio.size)
    return out.astype(np.float32)


def load_wav(path: str | Path, target: int = SAMPLE_RATE, channels: str = "mix") -> np.ndarray:
    """Read a PCM WAV file of any rate as float32 at `target` Hz.

    `channels="mix"` averages the channels to mono (the usual case); `"keep"` returns an
    array of shape (samples, channels) so stereo two-microphone recordings stay split.
    """
    path = Path(path)
    try:
        with wave.open(str(path), "rb") as handle:
            rate = handle.getframerate()
            width = handle.getsampwidth()
            n_channels = handle.getnchannels()
            raw = handle.readframes(handle.getnframes())
    except FileNotFoundError:
        raise AudioFileError(f"recording not found: {path}") from None
    except (wave.Error, EOFError) as error:
        raise AudioFileError(f"{path} is not a PCM WAV file ({error})") from None
    if width == 1:
        data = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 2:
        data = np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    elif width == 3:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        ints = (b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)) << 8 >> 8
        data = ints.astype(np.float32) / 8388608.0
    elif width == 4:
        data = np.frombuffer(raw, "<i4").astype(np.float32) / 2147483648.0
    else:
        raise AudioFileError(f"{path}: unsupported sample width {width} bytes")
    data = data.reshape(-1, n_channels)
    if channels == "mix":
        return resample(data.mean(axis=1), rate, target)
    return np.stack([resample(data[:, c], rate, target) for c in range(n_channels)], axis=1)


def save_wav(path: str | Path, audio: np.ndarray, rate: int = SAMPLE_RATE) -> None:
    """Write float32 audio (mono, or (samples, channels)) as 16-bit PCM."""
    audio = np.asarray(audio, dtype=np.float32)
    n_channels = 1 if audio.ndim == 1 else audio.shape[1]
    pcm = (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2")
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
    pcm = (np.clip(frames, -1, 1) * 32767).astype("<i2")
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
