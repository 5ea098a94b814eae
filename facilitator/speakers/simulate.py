"""Room simulation for tests and the benchmark: reverb, noise, crosstalk, gain.

Not used at run time. Everything is seeded so a test or benchmark run is repeatable.
"""

from __future__ import annotations

import numpy as np

from facilitator.speakers.audio import SAMPLE_RATE


def synthetic_rir(rt60: float, rng: np.random.Generator, rate: int = SAMPLE_RATE) -> np.ndarray:
    """A room impulse response: direct path, then exponentially decaying noise (RT60 s)."""
    n = int(rate * max(rt60, 0.05))
    t = np.arange(n) / rate
    tail = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)
    delay = int(0.002 * rate)
    tail[:delay] = 0.0
    tail *= 0.35 / (np.sqrt(np.sum(tail ** 2)) + 1e-9)
    tail[0] = 1.0
    return tail.astype(np.float32)


def reverb(audio: np.ndarray, rir: np.ndarray) -> np.ndarray:
    """Convolve with an impulse response (FFT), same length as the input."""
    n = audio.size + rir.size - 1
    size = 1 << (n - 1).bit_length()
    out = np.fft.irfft(np.fft.rfft(audio, size) * np.fft.rfft(rir, size), size)[: audio.size]
    return out.astype(np.float32)


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """Noise with a 1/f spectrum, unit RMS."""
    spec = np.fft.rfft(rng.standard_normal(n))
    spec /= np.sqrt(np.maximum(np.arange(spec.size), 1.0))
    x = np.fft.irfft(spec, n)
    return (x / (np.std(x) + 1e-12)).astype(np.float32)


def rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.asarray(audio, np.float64) ** 2) + 1e-20))


def speech_rms(audio: np.ndarray) -> float:
    """RMS over the louder half of 30 ms frames: the speech level, ignoring pauses."""
    step = SAMPLE_RATE * 30 // 1000
    n = audio.size // step
    if n < 2:
        return rms(audio)
    p = np.mean(np.asarray(audio[: n * step], np.float64).reshape(n, step) ** 2, axis=1)
    return float(np.sqrt(np.mean(np.sort(p)[n // 2:]) + 1e-20))


def add_noise(audio: np.ndarray, snr_db: float, rng: np.random.Generator,
              kind: str = "pink") -> np.ndarray:
    """Add noise at `snr_db` below the speech level."""
    noise = pink_noise(audio.size, rng) if kind == "pink" else rng.standard_normal(audio.size)
    level = speech_rms(audio) / (10 ** (snr_db / 20))
    return (audio + level * noise / (rms(noise) + 1e-12)).astype(np.float32)


def set_level(audio: np.ndarray, db_fs: float) -> np.ndarray:
    """Scale so the speech level is `db_fs` dB re full scale."""
    return (audio * (10 ** (db_fs / 20)) / (speech_rms(audio) + 1e-12)).astype(np.float32)


def room(audio: np.ndarray, rng: np.random.Generator, snr_db: float | None = None,
         rt60: float | None = None) -> np.ndarray:
    """Reverb (RT60 0.2-0.6 s) and pink noise (5-15 dB SNR) unless given."""
    rt60 = rng.uniform(0.2, 0.6) if rt60 is None else rt60
    snr_db = rng.uniform(5.0, 15.0) if snr_db is None else snr_db
    wet = reverb(audio, synthetic_rir(rt60, rng))
    return add_noise(wet, snr_db, rng)


def stereo_mix(a: np.ndarray, b: np.ndarray, crosstalk_db: float, gain_a_db: float,
               gain_b_db: float, rng: np.random.Generator, snr_db: float = 30.0,
               rt60: float = 0.3) -> np.ndarray:
    """Two microphones: channel 0 near partner A, channel 1 near partner B.

    `a` and `b` are the two partners' dry tracks (same length, silence where they do not
    speak). Each mic hears its own partner directly and the other at `crosstalk_db` with
    its own reverb; the mics differ in gain by `gain_a_db` / `gain_b_db`.
    """
    near_a = reverb(a, synthetic_rir(rt60 * 0.5, rng))
    near_b = reverb(b, synthetic_rir(rt60 * 0.5, rng))
    far_a = reverb(a, synthetic_rir(rt60, rng))
    far_b = reverb(b, synthetic_rir(rt60, rng))
    x = 10 ** (crosstalk_db / 20)
    ch0 = near_a + x * far_b
    ch1 = near_b + x * far_a
    speech = max(speech_rms(near_a), speech_rms(near_b))
    out = []
    for ch, gain in ((ch0, gain_a_db), (ch1, gain_b_db)):
        noisy = ch + (speech / 10 ** (snr_db / 20)) * pink_noise(ch.size, rng)
        out.append(noisy * 10 ** (gain / 20))
    return np.stack(out, axis=1).astype(np.float32)
