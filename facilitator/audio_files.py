"""The audio toolkit: one reader for recordings and one resampler, for every room.

- `read_audio(path)`: any recording PyAV (FFmpeg) decodes (WAV of any sample type, FLAC,
  MP3, OGG, M4A, the sound of an MP4 or WebM), as int16 at 16 kHz, mono or per channel;
- `decode_audio(data)`: the same at the recording's own rate, as float32 (the speech
  engines' WAV bytes);
- `resample(samples, rate, target)`: the one band-limited resampler (soxr, high quality),
  used for whole arrays and, inside `read_audio`, chunk by chunk for long recordings.

Every problem with a recording is an `AudioFileError` whose message names the file and
what is wrong with it (not found, a folder, empty, not an audio file, no sound in it, cannot
be decoded). NaN and infinite samples (float WAVs) become silence; samples past full scale
are clipped. Imports only numpy, soxr, PyAV and `facilitator.core`.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Iterator, Union

import numpy as np

from facilitator.core import SAMPLE_RATE, to_int16

Source = Union[str, Path, bytes]
Channels = Union[str, int]          # "mix" (mono), "keep" (every channel) or a count


class AudioFileError(Exception):
    """A recording that cannot be read, worded for the person who gave it."""


def resample(samples: np.ndarray, rate: int, target: int = SAMPLE_RATE) -> np.ndarray:
    """Band-limited resampling (soxr "HQ") of mono `(n,)` or multi-channel `(n, channels)`
    audio from `rate` to `target` Hz. int16 in gives int16 out (clipped); anything else
    gives float32."""
    samples = np.asarray(samples)
    is_int16 = samples.dtype == np.int16
    audio = samples.astype(np.float32) / 32768.0 if is_int16 else samples.astype(np.float32, copy=False)
    if rate != target and audio.shape[0] > 0:
        import soxr

        audio = soxr.resample(audio, rate, target, quality="HQ")
    elif rate != target:
        audio = np.zeros((0,) + audio.shape[1:], np.float32)
    return to_int16(audio) if is_int16 else np.asarray(audio, np.float32)


def read_audio(source: Source, channels: Channels = "mix", rate: int = SAMPLE_RATE,
               what: str = "audio file") -> np.ndarray:
    """A recording as int16 at `rate` Hz.

    `channels="mix"` (or 1) averages the channels: shape (n,). `"keep"` keeps them all:
    shape (n, channels), also for a mono file. A count above 1 gives shape (n, count): a
    mono recording is copied to every channel, a recording with more takes the first ones.
    `what` names the file in messages ("input file", "recording"). Raises AudioFileError.
    """
    parts: list[np.ndarray] = []
    stream = None
    width = 0
    for block, native in _blocks(source, what):
        block = _choose_channels(block, channels)
        width = block.shape[1]
        if native != rate:
            if stream is None:
                import soxr

                stream = soxr.ResampleStream(native, rate, width, dtype="float32", quality="HQ")
            block = stream.resample_chunk(block)
        parts.append(to_int16(block))
    if stream is not None:
        parts.append(to_int16(stream.resample_chunk(np.zeros((0, width), np.float32), last=True)))
    if not parts:
        width = 1 if channels in ("mix", 1, "keep") else int(channels)
        parts.append(np.zeros((0, width), np.int16))
    audio = np.concatenate(parts)
    return audio[:, 0] if channels in ("mix", 1) else audio


def decode_audio(source: Source, channels: Channels = "mix",
                 what: str = "audio file") -> tuple[np.ndarray, int]:
    """(float32 samples, the recording's own rate): shape (n,) for "mix", else (n, c)."""
    blocks, native = [], SAMPLE_RATE
    for block, native in _blocks(source, what):
        blocks.append(_choose_channels(block, channels))
    if not blocks:
        width = 1 if channels in ("mix", 1, "keep") else int(channels)
        blocks.append(np.zeros((0, width), np.float32))
    audio = np.concatenate(blocks)
    return (audio[:, 0] if channels in ("mix", 1) else audio), native


def _choose_channels(block: np.ndarray, channels: Channels) -> np.ndarray:
    """(n, c) float32 to (n, wanted) as `read_audio` describes."""
    if channels in ("mix", 1):
        return block.mean(axis=1, keepdims=True, dtype=np.float32) if block.shape[1] > 1 else block
    if channels == "keep":
        return block
    count = int(channels)
    if count < 1:
        raise ValueError(f"channels must be 'mix', 'keep' or a count, not {channels!r}")
    if block.shape[1] == count:
        return block
    if block.shape[1] == 1:
        return np.repeat(block, count, axis=1)
    if block.shape[1] > count:
        return np.ascontiguousarray(block[:, :count])
    mono = block.mean(axis=1, keepdims=True, dtype=np.float32)
    return np.repeat(mono, count, axis=1)


def _clean(block: np.ndarray) -> np.ndarray:
    """NaN and inf become 0; past full scale is clipped (before resampling, which would ring)."""
    if not np.isfinite(block).all():
        block = np.nan_to_num(block, nan=0.0, posinf=0.0, neginf=0.0)
    return np.clip(block, -1.0, 1.0, out=block)


def _open(source: Source, what: str):
    """An opened PyAV container for `source`, or an AudioFileError saying why not."""
    import av

    if isinstance(source, (bytes, bytearray, memoryview)):
        name = f"the {what}"
        if len(source) == 0:
            raise AudioFileError(f"{name} is empty (0 bytes): it holds no audio")
        target: object = io.BytesIO(bytes(source))
    else:
        path = Path(source)
        name = str(path)
        if not path.exists():
            raise AudioFileError(f"{what} not found: {path}")
        if path.is_dir():
            raise AudioFileError(f"{path} is a folder, not an audio file: give a recording "
                                 "(WAV, FLAC, MP3, OGG, ...)")
        try:
            empty = path.stat().st_size == 0
        except OSError as error:
            raise AudioFileError(f"cannot read {path}: {error.strerror or error}") from None
        if empty:
            raise AudioFileError(f"{path} is empty (0 bytes): the recording holds no audio; "
                                 "record again or give another file")
        target = str(path)
    try:
        return av.open(target, mode="r"), name
    except PermissionError:
        raise AudioFileError(f"cannot read {name}: permission denied") from None
    except (av.error.FFmpegError, ValueError, OSError) as error:
        detail = getattr(error, "strerror", None) or str(error)
        raise AudioFileError(f"{name} is not an audio file that can be read ({detail}); give a "
                             "recording such as WAV, FLAC, OGG or MP3") from None


def _blocks(source: Source, what: str) -> Iterator[tuple[np.ndarray, int]]:
    """Decoded (n, channels) float32 blocks in [-1, 1] and their rate, in order."""
    import av

    container, name = _open(source, what)
    with container:
        if not container.streams.audio:
            raise AudioFileError(f"{name} has no sound in it (no audio stream): it is not an "
                                 "audio file, or a video without sound")
        stream = container.streams.audio[0]
        converter = av.AudioResampler(format="fltp")   # sample type only: rate and layout kept
        rate = None
        try:
            for frame in container.decode(stream):
                rate = rate or frame.sample_rate
                if frame.sample_rate != rate:
                    raise AudioFileError(f"{name} changes its sample rate part-way; "
                                         "convert it to one rate (e.g. save it again as WAV)")
                for out in converter.resample(frame):
                    yield _clean(np.ascontiguousarray(out.to_ndarray().T)), rate
            for out in converter.resample(None):
                yield _clean(np.ascontiguousarray(out.to_ndarray().T)), rate
        except (av.error.FFmpegError, ValueError) as error:
            detail = getattr(error, "strerror", None) or str(error)
            raise AudioFileError(f"{name} cannot be decoded ({detail}): the file is damaged "
                                 "or truncated; save the recording again") from None
