"""Room simulation for tests, the benchmarks and `facilitator simulate`: reverb, noise,
crosstalk, gain.

Not used by a live session; the simulated room's acoustics (facilitator/sim/acoustics.py)
take the impulse response, pink noise and speech level from here. Everything is seeded so
a test, a benchmark or a simulated session is repeatable.
"""

from __future__ import annotations

import numpy as np

from facilitator.core import SAMPLE_RATE


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


SENTENCES = (
    "When you came home late last night I felt lonely and a bit scared.",
    "What I heard you say is that you felt lonely when I came home late.",
    "I would really like us to have dinner together on Sundays again.",
    "Did I get that right? Is there more about that?",
    "It makes sense to me that you felt that way, given what happened.",
    "I imagine you might be feeling hurt and maybe a little angry.",
    "Yes, there is more. I also worry that we are drifting apart.",
    "When we argue about money I remember how my parents used to fight.",
    "So you are saying that the arguments remind you of your childhood.",
    "I want to feel that you are on my side when things get hard.",
    "Thank you for listening to me, it means a lot that you tried.",
    "The garden looked beautiful this morning after all the rain.",
    "Sometimes I need a quiet hour alone before we talk about the day.",
    "I appreciate that you called my mother on her birthday last week.",
    "My biggest frustration is that plans change at the last minute.",
    "Let me see if I got it: you need some quiet time after work.",
)


def espeak(text: str, voice: str, speed: int = 165, pitch: int = 50) -> np.ndarray:
    """Speak `text` with espeak-ng into a 16 kHz float32 array (needs espeak-ng)."""
    import subprocess
    import tempfile
    from pathlib import Path

    from facilitator.speakers.audio import load_wav

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch),
                        "-w", str(path), text], check=True, capture_output=True)
        return load_wav(path)


def compose(parts: list[tuple[str, np.ndarray, float]], tail_s: float = 0.3) -> tuple[np.ndarray, list[tuple[float, float, str]]]:
    """Lay out (speaker, audio, start_s) parts on one track (overlaps add up).

    Returns the track and the truth: (start_s, end_s, speaker) of each part.
    """
    end = max(start + audio.size / SAMPLE_RATE for _, audio, start in parts) + tail_s
    track = np.zeros(int(end * SAMPLE_RATE) + 1, np.float32)
    truth = []
    for speaker, audio, start in parts:
        i = int(start * SAMPLE_RATE)
        track[i:i + audio.size] += audio
        truth.append((start, start + audio.size / SAMPLE_RATE, speaker))
    return track, truth
