"""Audio in: turns a microphone, a recording or a simulated room into timed 16 kHz frames.

Every source yields `Frame`s of equal length. `Frame.t` is the time of the frame's first
sample on the *input's own timeline* (seconds since the stream or file started), so the
rest of the pipeline never looks at the wall clock to place an event.
"""

from __future__ import annotations

import queue
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Protocol

import numpy as np

from facilitator.audio_files import AudioFileError, read_audio
from facilitator.audio_files import resample  # noqa: F401  (the one resampler, re-exported)
from facilitator.core import SAMPLE_RATE


class AudioInputError(Exception):
    """A problem with the audio input, worded for the person who has to fix it."""


class DeviceLost(AudioInputError):
    pass


@dataclass
class Frame:
    samples: np.ndarray      # int16, mono (channel 0 or the mix) at the pipeline's rate
    t: float                 # seconds since the input started
    channels: np.ndarray | None = None   # int16 (n, 2) when the input is stereo
    arrived: float = 0.0     # time.monotonic() when the frame reached the pipeline

    @property
    def end(self) -> float:
        return self.t + len(self.samples) / SAMPLE_RATE


class AudioSource(Protocol):
    sample_rate: int
    frame_samples: int
    name: str

    def frames(self) -> Iterator[Frame]: ...
    def close(self) -> None: ...


def split_channels(block: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """(mono mix for VAD and transcription, the stereo block or None)."""
    if block.ndim == 1:
        return block, None
    if block.shape[1] == 1:
        return block[:, 0], None
    mix = block.astype(np.int32).mean(axis=1).astype(np.int16)
    return mix, block


class FileSource:
    """A recording standing in for the microphone, in real time or as fast as possible.

    Any format `facilitator.audio_files.read_audio` reads (WAV, FLAC, MP3, OGG, M4A, the
    sound of a video), at any rate; `channels=2` keeps a stereo recording's two microphones."""

    def __init__(self, path: str | Path, frame_ms: int = 30, realtime: bool = True,
                 sample_rate: int = SAMPLE_RATE, channels: int = 1, tail_s: float = 4.0):
        self.name = str(path)
        self.sample_rate = sample_rate
        self.frame_samples = sample_rate * frame_ms // 1000
        self.realtime = realtime
        try:
            self.audio = read_audio(path, channels, sample_rate, what="input file")
        except AudioFileError as error:
            raise AudioInputError(str(error)) from None
        # Silence after the end so the last turn can close as it would in a room.
        pad = np.zeros((int(tail_s * sample_rate),) + self.audio.shape[1:], dtype=np.int16)
        self.audio = np.concatenate([self.audio, pad])
        self._closed = False

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sample_rate

    def frames(self) -> Iterator[Frame]:
        start = time.monotonic()
        n = self.frame_samples
        for index in range(len(self.audio) // n):
            if self._closed:
                return
            t = index * n / self.sample_rate
            if self.realtime:
                delay = start + t + n / self.sample_rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            mono, stereo = split_channels(self.audio[index * n:(index + 1) * n])
            yield Frame(mono, t, stereo, time.monotonic())

    def close(self) -> None:
        self._closed = True


class MicrophoneSource:
    """One sounddevice input stream, opened once and kept open for the whole session."""

    def __init__(self, device: str | int | None = None, frame_ms: int = 30,
                 sample_rate: int = SAMPLE_RATE, channels: int = 1,
                 ready_timeout_s: float = 5.0, lost_device_s: float = 2.0):
        import sounddevice as sd

        self.sample_rate = sample_rate
        self.frame_samples = sample_rate * frame_ms // 1000
        self.channels = channels
        self.ready_timeout_s = ready_timeout_s
        self.lost_device_s = lost_device_s
        self._queue: queue.Queue[tuple[np.ndarray, float]] = queue.Queue()   # (block, captured)
        self._status_problem: str | None = None
        self._count = 0
        self.captured_s = 0.0      # input time captured so far (may run ahead of what was read)
        self._first: tuple[np.ndarray, float] | None = None
        device_index = resolve_device(device, kind="input")
        self.name = device_label(device_index, "input")
        try:
            self._stream = sd.InputStream(
                samplerate=sample_rate, blocksize=self.frame_samples, device=device_index,
                channels=channels, dtype="int16", callback=self._callback,
            )
            self._stream.start()
        except Exception as error:  # PortAudioError and friends
            raise AudioInputError(
                f"cannot open the microphone '{self.name}': {error}. "
                "Check it is plugged in, or choose another with --device "
                "(list them with `facilitator devices`)."
            ) from None

    def _callback(self, indata, frames, time_info, status) -> None:  # audio thread: keep it tiny
        self._queue.put((indata.copy(), time.monotonic()))
        self.captured_s += frames / self.sample_rate

    def wait_ready(self) -> None:
        """Block until audio really arrives (the first stream can start late)."""
        try:
            block = self._queue.get(timeout=self.ready_timeout_s)
        except queue.Empty:
            raise AudioInputError(
                f"no sound arrived from '{self.name}' within {self.ready_timeout_s:.0f} s. "
                "Check the microphone is connected and not muted, or pick another with --device."
            ) from None
        self._first = block

    def frames(self) -> Iterator[Frame]:
        n = self.frame_samples
        while True:
            try:
                (block, captured), self._first = (self._first, None) if self._first is not None else (
                    self._queue.get(timeout=self.lost_device_s), None)
            except queue.Empty:
                if getattr(self, "_closed", False):
                    return
                raise DeviceLost(
                    f"the microphone '{self.name}' stopped sending sound (unplugged?). "
                    "The session record is saved; plug it back in and run "
                    "`facilitator resume` to go on."
                ) from None
            if block.ndim == 2 and self.channels == 1:
                block = block[:, 0]
            mono, stereo = split_channels(block)
            t = self._count * n / self.sample_rate
            self._count += 1
            # `arrived` = when the block reached the program (the audio callback), not when
            # the loop got to it: frames queue up while the loop transcribes or speaks.
            yield Frame(mono.copy(), t, stereo, captured)

    def close(self) -> None:
        self._closed = True
        try:
            self._stream.stop()
            self._stream.close()
        except Exception:
            pass


class PairedMicrophones:
    """Two microphones on two devices, one per partner, read as one stereo input
    (channel 0 from the first, channel 1 from the second), frame by frame."""

    def __init__(self, first: "MicrophoneSource", second: "MicrophoneSource"):
        self.first, self.second = first, second
        self.sample_rate = first.sample_rate
        self.frame_samples = first.frame_samples
        self.channels = 2
        self.name = f"{first.name} + {second.name}"

    @property
    def captured_s(self) -> float:
        return min(self.first.captured_s, self.second.captured_s)

    def wait_ready(self) -> None:
        self.first.wait_ready()
        self.second.wait_ready()

    def frames(self) -> Iterator[Frame]:
        for one, two in zip(self.first.frames(), self.second.frames()):
            block = np.stack([one.samples, two.samples], axis=1)
            mono, stereo = split_channels(block)
            yield Frame(mono, one.t, stereo, max(one.arrived, two.arrived))

    def close(self) -> None:
        self.first.close()
        self.second.close()


def _devices():
    import sounddevice as sd

    try:
        return list(sd.query_devices())
    except Exception:
        return []


def has_input_device() -> bool:
    return any(d.get("max_input_channels", 0) > 0 for d in _devices())


def has_output_device() -> bool:
    return any(d.get("max_output_channels", 0) > 0 for d in _devices())


def resolve_device(device: str | int | None, kind: str) -> int | None:
    """Turn a name (or part of one) or an index into a sounddevice index."""
    key = "max_input_channels" if kind == "input" else "max_output_channels"
    devices = _devices()
    usable = [i for i, d in enumerate(devices) if d.get(key, 0) > 0]
    if not usable:
        raise AudioInputError(
            f"no audio {kind} device found. Connect one, or run `facilitator demo` "
            "to hear a simulated session (or `facilitator run --input FILE.wav`)."
        )
    if device is None or device == "":
        return None
    if isinstance(device, int) or (isinstance(device, str) and device.isdigit()):
        index = int(device)
        if index not in usable:
            raise AudioInputError(
                f"audio {kind} device {index} does not exist or has no {kind} channels; "
                "see `facilitator devices`."
            )
        return index
    matches = [i for i in usable if str(device).lower() in devices[i]["name"].lower()]
    if not matches:
        raise AudioInputError(
            f"no audio {kind} device named like '{device}'; see `facilitator devices`."
        )
    return matches[0]


def device_label(index: int | None, kind: str) -> str:
    import sounddevice as sd

    try:
        info = sd.query_devices(index, kind=kind)
        return str(info["name"])
    except Exception:
        return "default" if index is None else str(index)


def describe_devices() -> str:
    devices = _devices()
    if not devices:
        return "No audio devices found (no sound card, or PortAudio cannot see it)."
    lines = []
    for i, d in enumerate(devices):
        kinds = []
        if d.get("max_input_channels", 0):
            kinds.append(f"in:{d['max_input_channels']}")
        if d.get("max_output_channels", 0):
            kinds.append(f"out:{d['max_output_channels']}")
        lines.append(f"{i:3d}  {d['name']}  ({', '.join(kinds)}, {int(d['default_samplerate'])} Hz)")
    return "\n".join(lines)
