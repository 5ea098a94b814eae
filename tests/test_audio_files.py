"""The audio toolkit (facilitator/audio_files.py): one reader for every kind of recording,
one band-limited resampler, and a clear message for every file that cannot be read."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np
import pytest

from facilitator.audio_files import AudioFileError, decode_audio, read_audio, resample


def tone(freq: float, seconds: float, rate: int, level: float = 0.5) -> np.ndarray:
    return (level * np.sin(2 * np.pi * freq * np.arange(int(seconds * rate)) / rate)).astype(np.float32)


def peak_hz(audio: np.ndarray, rate: int = 16000) -> float:
    spectrum = np.abs(np.fft.rfft(audio.astype(np.float64) * np.hanning(audio.size)))
    return float(np.argmax(spectrum) * rate / audio.size)


def level(audio: np.ndarray) -> float:
    """RMS of int16 audio, in full-scale units (a sine of amplitude a gives a / sqrt 2)."""
    return float(np.sqrt(np.mean((audio.astype(np.float64) / 32768.0) ** 2)))


def write_pcm(path: Path, samples: np.ndarray, rate: int, width: int = 2) -> Path:
    """float samples (n,) or (n, c) as integer PCM WAV of `width` bytes."""
    samples = np.atleast_2d(samples.T).T
    with wave.open(str(path), "wb") as out:
        out.setnchannels(samples.shape[1])
        out.setsampwidth(width)
        out.setframerate(rate)
        if width == 1:
            data = (np.clip(samples, -1, 1) * 127 + 128).astype(np.uint8).tobytes()
        elif width == 3:
            ints = (np.clip(samples, -1, 1) * 8388607).astype("<i4")
            data = ints.view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
        else:
            data = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
        out.writeframes(data)
    return path


def write_float_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    data = samples.astype("<f4").tobytes()
    header = b"RIFF" + (36 + len(data)).to_bytes(4, "little") + b"WAVEfmt " + \
        (16).to_bytes(4, "little") + (3).to_bytes(2, "little") + (1).to_bytes(2, "little") + \
        rate.to_bytes(4, "little") + (rate * 4).to_bytes(4, "little") + (4).to_bytes(2, "little") + \
        (32).to_bytes(2, "little") + b"data" + len(data).to_bytes(4, "little")
    path.write_bytes(header + data)
    return path


def encode(path: Path, samples: np.ndarray, rate: int, codec: str) -> Path:
    """Mono float samples encoded with PyAV (FLAC, Vorbis, Opus, MP3, AAC)."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate)
        stream.layout = "mono"
        fmt = stream.codec_context.codec.audio_formats[0].name
        size = stream.codec_context.frame_size or 1024
        for start in range(0, samples.size, size):
            chunk = samples[start:start + size]
            if fmt.startswith("s16"):
                data = (chunk * 32767).astype(np.int16)[None, :]
            elif fmt.startswith("s32"):
                data = (chunk * 2147483647).astype(np.int32)[None, :]
            else:
                data = chunk.astype(np.float32)[None, :]
            frame = av.AudioFrame.from_ndarray(data, format=fmt, layout="mono")
            frame.sample_rate, frame.pts = rate, start
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 44100, 48000])
@pytest.mark.parametrize("width", [1, 2, 3])
def test_wav_of_any_rate_and_width_reads_as_16k_int16(tmp_path: Path, rate: int, width: int) -> None:
    audio = read_audio(write_pcm(tmp_path / "x.wav", tone(440, 1.0, rate), rate, width))
    assert audio.dtype == np.int16 and audio.ndim == 1
    assert abs(audio.size - 16000) <= 1
    assert abs(peak_hz(audio) - 440) < 3
    assert abs(level(audio[800:-800]) - 0.5 / np.sqrt(2)) < 0.01


@pytest.mark.parametrize("codec, suffix", [("flac", "flac"), ("libopus", "ogg"), ("mp3", "mp3"),
                                           ("aac", "m4a"), ("libopus", "webm")])
def test_compressed_recordings_read_too(tmp_path: Path, codec: str, suffix: str) -> None:
    import av

    try:
        av.codec.Codec(codec, "w")
    except Exception:
        pytest.skip(f"this FFmpeg has no {codec} encoder")
    rate = 48000 if "opus" in codec else 44100
    audio = read_audio(encode(tmp_path / f"x.{suffix}", tone(440, 2.0, rate), rate, codec))
    assert audio.dtype == np.int16 and abs(audio.size - 32000) < 0.1 * 32000   # encoder padding
    assert abs(peak_hz(audio) - 440) < 3
    assert abs(level(audio[4000:-4000]) - 0.5 / np.sqrt(2)) < 0.03


def test_the_sound_of_a_video_reads(tmp_path: Path) -> None:
    import av

    path = tmp_path / "clip.mp4"
    rate = 44100
    samples = tone(440, 1.0, rate)
    with av.open(str(path), "w") as container:
        video = container.add_stream("mpeg4", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        sound = container.add_stream("aac", rate=rate)
        sound.layout = "mono"
        for i in range(10):
            picture = av.VideoFrame.from_ndarray(np.zeros((48, 64, 3), np.uint8), format="rgb24")
            picture.pts = i
            container.mux(video.encode(picture))
        size = sound.codec_context.frame_size
        for start in range(0, samples.size, size):
            frame = av.AudioFrame.from_ndarray(samples[None, start:start + size], format="fltp",
                                               layout="mono")
            frame.sample_rate, frame.pts = rate, start
            container.mux(sound.encode(frame))
        container.mux(video.encode(None))
        container.mux(sound.encode(None))
    audio = read_audio(path)
    assert abs(audio.size - 16000) < 1600 and abs(peak_hz(audio) - 440) < 3


def test_channels_mixed_kept_or_counted(tmp_path: Path) -> None:
    left, right = tone(440, 1.0, 22050, 0.4), tone(1000, 1.0, 22050, 0.2)
    path = write_pcm(tmp_path / "stereo.wav", np.stack([left, right], axis=1), 22050)
    mixed = read_audio(path)
    assert mixed.ndim == 1 and abs(mixed.size - 16000) <= 1
    kept = read_audio(path, channels="keep")
    assert kept.shape[1] == 2
    assert abs(peak_hz(kept[:, 0]) - 440) < 3 and abs(peak_hz(kept[:, 1]) - 1000) < 3
    assert np.array_equal(read_audio(path, channels=2), kept)
    mono = write_pcm(tmp_path / "mono.wav", left, 22050)
    assert read_audio(mono, channels="keep").shape[1] == 1
    doubled = read_audio(mono, channels=2)
    assert doubled.shape[1] == 2 and np.array_equal(doubled[:, 0], doubled[:, 1])
    assert read_audio(path, rate=22050).size == 22050             # no resampling at its own rate


def test_float_wav_nan_and_inf_become_silence_and_clipping_is_clipped(tmp_path: Path) -> None:
    samples = 40.0 * tone(220, 1.0, 16000, 1.0)
    samples[::97] = np.nan
    samples[::131] = np.inf
    samples[1::131] = -np.inf
    audio = read_audio(write_float_wav(tmp_path / "nan.wav", samples, 16000))
    assert audio.size == 16000 and audio.dtype == np.int16
    assert audio[::97].max() == 0 and audio[::131].max() == 0 and audio[1::131].max() == 0
    assert audio.max() == 32767 and audio.min() == -32767
    resampled = read_audio(tmp_path / "nan.wav", rate=44100)   # clipped before the resampler
    assert abs(resampled.size - 44100) <= 1 and np.abs(resampled).max() <= 32767


def test_decode_audio_keeps_the_recordings_own_rate_and_reads_bytes() -> None:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(22050)
        out.writeframes((tone(440, 0.5, 22050) * 32767).astype("<i2").tobytes())
    samples, rate = decode_audio(buffer.getvalue())
    assert rate == 22050 and samples.dtype == np.float32 and samples.size == 11025
    assert 0.49 < np.abs(samples).max() < 0.51
    assert read_audio(buffer.getvalue()).size == 8000


@pytest.mark.parametrize("name, make, message", [
    ("missing.wav", None, "not found"),
    ("folder", lambda p: p.mkdir(), "is a folder"),
    ("empty.wav", lambda p: p.write_bytes(b""), "is empty"),
    ("notes.txt", lambda p: p.write_text("hello, this is text"), "is not an audio file"),
    ("fake.wav", lambda p: p.write_text("RIFF? no"), "is not an audio file"),
    ("cut.wav", lambda p: p.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00"), "is not an audio file"),
    ("picture.wav", None, "no audio stream"),
])
def test_every_unreadable_file_says_what_is_wrong(tmp_path: Path, name, make, message) -> None:
    path = tmp_path / name
    if name == "picture.wav":       # an image: FFmpeg opens it, but there is no sound
        import av

        with av.open(str(path), "w", format="image2") as container:
            stream = container.add_stream("png", rate=1)
            stream.width, stream.height, stream.pix_fmt = 8, 8, "rgb24"
            frame = av.VideoFrame.from_ndarray(np.zeros((8, 8, 3), np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
    elif make is not None:
        make(path)
    with pytest.raises(AudioFileError) as caught:
        read_audio(path, what="recording")
    assert message in str(caught.value) and name in str(caught.value)
    with pytest.raises(AudioFileError):
        decode_audio(path)


def test_empty_bytes_are_refused() -> None:
    with pytest.raises(AudioFileError, match="is empty"):
        decode_audio(b"")


def test_resampler_is_band_limited() -> None:
    """A 7 kHz tone at 44.1 kHz survives at 16 kHz; a 10 kHz one (above 8 kHz) is removed
    instead of folding back to 6 kHz, as linear interpolation would let it."""
    kept = resample(tone(7000, 1.0, 44100), 44100, 16000)
    assert kept.dtype == np.float32 and kept.size == 16000
    assert abs(peak_hz(kept) - 7000) < 3
    assert abs(np.sqrt(np.mean(kept[1000:-1000] ** 2)) - 0.5 / np.sqrt(2)) < 0.01
    removed = resample(tone(10000, 1.0, 44100), 44100, 16000)
    assert np.sqrt(np.mean(removed[1000:-1000] ** 2)) < 1e-3


def test_resampler_keeps_int16_stereo_and_empty_arrays() -> None:
    stereo = (np.stack([tone(440, 0.5, 16000), tone(880, 0.5, 16000)], 1) * 32767).astype(np.int16)
    out = resample(stereo, 16000, 44100)
    assert out.dtype == np.int16 and out.shape == (22050, 2)
    assert abs(peak_hz(out[:, 1].astype(np.float32), 44100) - 880) < 3
    assert resample(np.zeros(0, np.float32), 22050, 16000).size == 0
    same = tone(440, 0.1, 16000)
    assert np.array_equal(resample(same, 16000, 16000), same)


def test_a_long_recording_is_resampled_in_chunks_without_seams(tmp_path: Path) -> None:
    """read_audio resamples block by block; the result matches resampling the whole at once."""
    samples = tone(300, 20.0, 44100, 0.3) + tone(2500, 20.0, 44100, 0.2)
    path = write_pcm(tmp_path / "long.wav", samples, 44100)
    chunked = read_audio(path).astype(np.float64)
    whole = resample(np.round(samples * 32767) / 32767, 44100, 16000) * 32767
    assert abs(chunked.size - whole.size) <= 1
    n = min(chunked.size, whole.size)
    assert np.abs(chunked[:n] - whole[:n]).max() < 4           # a few int16 steps: no seam at the blocks
