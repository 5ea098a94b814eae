"""The log mel filterbank as Kaldi computes it (no dither, snip edges): the features CAM++
was trained on (`campplus.py`). Frames of 25 ms every 10 ms, 80 mels on Kaldi's mel scale
(1127 ln(1 + f/700)), 20 Hz to 8 kHz, a Povey window; numpy only.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from facilitator.core import SAMPLE_RATE

FRAME_SHIFT = 160          # fbank frames every 10 ms
FRAME_LEN = 400            # 25 ms
N_FFT = 512
N_MELS = 80


@lru_cache(maxsize=1)
def _kaldi_mel_banks() -> np.ndarray:
    """(80, 257) Kaldi mel filterbank (mel = 1127 ln(1 + f/700), 20 Hz .. 8 kHz)."""
    def mel(f: np.ndarray | float) -> np.ndarray:
        return 1127.0 * np.log(1.0 + np.asarray(f, np.float64) / 700.0)

    n_bins = N_FFT // 2
    fft_mel = mel(np.arange(n_bins) * SAMPLE_RATE / N_FFT)
    lo, hi = mel(20.0), mel(SAMPLE_RATE / 2)
    delta = (hi - lo) / (N_MELS + 1)
    banks = np.zeros((N_MELS, n_bins + 1), np.float32)
    for m in range(N_MELS):
        left, centre, right = lo + m * delta, lo + (m + 1) * delta, lo + (m + 2) * delta
        up = (fft_mel - left) / (centre - left)
        down = (right - fft_mel) / (right - centre)
        banks[m, :n_bins] = np.maximum(0.0, np.minimum(up, down))
    return banks


@lru_cache(maxsize=1)
def _povey_window() -> np.ndarray:
    n = np.arange(FRAME_LEN)
    return ((0.5 - 0.5 * np.cos(2 * np.pi * n / (FRAME_LEN - 1))) ** 0.85).astype(np.float32)


def kaldi_fbank(audio: np.ndarray) -> np.ndarray:
    """(frames, 80) log mel filterbank as Kaldi computes it (no dither, snip edges).

    Frame i covers samples [i*160, i*160 + 400). Audio stays in [-1, 1], as torchaudio
    gives it to the model in training.
    """
    x = np.asarray(audio, np.float32)
    if x.size < FRAME_LEN:
        x = np.pad(x, (0, FRAME_LEN - x.size))
    n = 1 + (x.size - FRAME_LEN) // FRAME_SHIFT
    frames = np.lib.stride_tricks.as_strided(
        x, shape=(n, FRAME_LEN), strides=(x.strides[0] * FRAME_SHIFT, x.strides[0])).copy()
    frames -= frames.mean(axis=1, keepdims=True)
    frames[:, 1:] -= 0.97 * frames[:, :-1].copy()
    frames[:, 0] *= 1.0 - 0.97
    frames *= _povey_window()
    spec = np.fft.rfft(frames, N_FFT, axis=1)
    power = (spec.real ** 2 + spec.imag ** 2).astype(np.float32)
    return np.log(np.maximum(power @ _kaldi_mel_banks().T, np.finfo(np.float32).eps))
