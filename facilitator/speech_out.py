"""Prompt spoken: text to audio with pyttsx3 (espeak-ng underneath), played completely, once.

pyttsx3 is unreliable on Linux (an empty WAV now and then, `say()` returning before the
sound ends), so every prompt is rendered to a buffer first, checked, rendered again with
the espeak-ng program if pyttsx3 failed, and then played on one output stream that stays
open. Rendered prompts are cached, so a prompt said before starts at once.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import tempfile
import threading
import time
import wave
from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np

from facilitator.config import SpeechConfig


class SpeechError(Exception):
    pass


@dataclass
class Rendered:
    samples: np.ndarray      # float32 mono
    rate: int

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate


def _decode_wav(data: bytes) -> Rendered:
    with wave.open(io.BytesIO(data), "rb") as wav:
        rate, width, channels = wav.getframerate(), wav.getsampwidth(), wav.getnchannels()
        raw = wav.readframes(wav.getnframes())
    if width != 2:
        raise SpeechError(f"unexpected sample width {width}")
    audio = np.frombuffer(raw, dtype=np.int16).reshape(-1, channels)[:, 0]
    return Rendered(audio.astype(np.float32) / 32768.0, rate)


def _plausible(rendered: Rendered, text: str) -> bool:
    """A render that is empty or far too short for its words has failed."""
    words = max(1, len(text.split()))
    return rendered.duration >= min(0.25, 0.08 * words) and float(np.abs(rendered.samples).max(initial=0)) > 0.01


class EspeakRenderer:
    """The espeak-ng program: the fallback that always works where espeak-ng is installed."""

    def __init__(self, voice: str = "en-us+f2", rate: int = 165, volume: float = 0.9):
        self.voice, self.rate, self.volume = voice, rate, volume
        self.binary = shutil.which("espeak-ng") or shutil.which("espeak")

    def render(self, text: str) -> Rendered:
        if not self.binary:
            raise SpeechError("espeak-ng is not installed; run scripts/setup.sh (or apt-get install espeak-ng)")
        done = subprocess.run(
            [self.binary, "-v", self.voice, "-s", str(self.rate), "-a", str(int(self.volume * 200)),
             "--stdout", text],
            capture_output=True, check=False, timeout=30,
        )
        if done.returncode != 0 or not done.stdout:
            raise SpeechError(f"espeak-ng failed: {done.stderr.decode(errors='replace').strip()}")
        return _decode_wav(done.stdout)


def _quiet_pyttsx3_driver() -> None:
    """pyttsx3's espeak driver prints "Audio saved to ..." on stdout; silence that module only
    (redirecting sys.stdout from a worker thread would disturb every other thread)."""
    import importlib

    with contextlib.suppress(ImportError):
        driver = importlib.import_module("pyttsx3.drivers.espeak")
        driver.print = lambda *args, **kwargs: None


class Pyttsx3Renderer:
    """pyttsx3's save_to_file, run on one worker thread that owns the engine, and checked.

    runAndWait() can return before the file is written, so the file is awaited until it
    is a complete WAV whose size has stopped growing.
    """

    def __init__(self, voice: str = "en-us+f2", rate: int = 165, volume: float = 0.9,
                 wait_s: float = 3.0):
        import queue

        self.voice, self.rate, self.volume, self.wait_s = voice, rate, volume, wait_s
        self._jobs: "queue.Queue[tuple[str, queue.Queue]]" = queue.Queue()
        self._folder = tempfile.mkdtemp(prefix="facilitator-tts-")
        self._count = 0
        threading.Thread(target=self._work, name="pyttsx3", daemon=True).start()

    def _new_engine(self):
        import pyttsx3

        engine = pyttsx3.init()
        _quiet_pyttsx3_driver()
        engine.setProperty("rate", self.rate)
        engine.setProperty("volume", self.volume)
        with contextlib.suppress(Exception):
            engine.setProperty("voice", self.voice)
        return engine

    def _work(self) -> None:
        engine = None
        while True:
            text, reply = self._jobs.get()
            try:
                if engine is None:
                    engine = self._new_engine()
                self._count += 1
                path = os.path.join(self._folder, f"prompt-{self._count}.wav")
                engine.save_to_file(text, path)
                engine.runAndWait()
                reply.put(self._collect(path))
            except Exception as error:  # the engine is in doubt: a fresh one next time
                engine = None
                reply.put(SpeechError(f"pyttsx3 failed: {error}"))

    def _collect(self, path: str) -> Rendered | SpeechError:
        deadline = time.monotonic() + self.wait_s
        last_size = -1
        while time.monotonic() < deadline:
            size = os.path.getsize(path) if os.path.exists(path) else -1
            if size > 44 and size == last_size:
                try:
                    with open(path, "rb") as handle:
                        return _decode_wav(handle.read())
                except (wave.Error, EOFError, SpeechError):
                    pass
                finally:
                    with contextlib.suppress(OSError):
                        os.remove(path)
            last_size = size
            time.sleep(0.03)
        return SpeechError("pyttsx3 wrote no usable audio in time")

    def render(self, text: str) -> Rendered:
        import queue

        reply: "queue.Queue[Rendered | SpeechError]" = queue.Queue()
        self._jobs.put((text, reply))
        try:
            result = reply.get(timeout=self.wait_s + 5)
        except queue.Empty:
            raise SpeechError("pyttsx3 did not answer") from None
        if isinstance(result, SpeechError):
            raise result
        return result


class Renderer(Protocol):
    def render(self, text: str) -> Rendered: ...


class CheckedRenderer:
    """pyttsx3 first (unless configured otherwise), espeak-ng when it fails; results cached."""

    def __init__(self, config: SpeechConfig):
        fallback = EspeakRenderer(config.voice, config.rate, config.volume)
        self.renderers: list[Renderer] = [fallback]
        if config.engine == "pyttsx3":
            self.renderers.insert(0, Pyttsx3Renderer(config.voice, config.rate, config.volume))
        self._cache: dict[str, Rendered] = {}
        self._lock = threading.Lock()
        self.failures: list[str] = []

    def render(self, text: str) -> Rendered:
        with self._lock:
            if text in self._cache:
                return self._cache[text]
        problems = []
        for renderer in self.renderers:
            try:
                rendered = renderer.render(text)
            except Exception as error:  # any engine failure: try the next
                problems.append(f"{type(renderer).__name__}: {error}")
                continue
            if _plausible(rendered, text):
                with self._lock:
                    self._cache[text] = rendered
                return rendered
            problems.append(f"{type(renderer).__name__}: empty or truncated audio")
        self.failures.extend(problems)
        raise SpeechError("; ".join(problems))

    def prepare(self, texts: list[str]) -> None:
        """Render prompts ahead of time (in a background thread) so they start at once."""
        def work() -> None:
            for text in texts:
                with contextlib.suppress(Exception):
                    self.render(text)

        threading.Thread(target=work, name="prompt-prerender", daemon=True).start()


class Output(Protocol):
    def play(self, rendered: Rendered, on_start: Callable[[], None] | None = None) -> None: ...
    def close(self) -> None: ...


class SoundDeviceOutput:
    """One output stream kept open; `play` blocks until the last sample has been played."""

    def __init__(self, device: str | int | None = None, rate: int = 22050):
        import sounddevice as sd

        from facilitator.audio_in import resolve_device

        self.rate = rate
        self._buffer = np.zeros(0, np.float32)
        self._lock = threading.Lock()
        self._drained = threading.Event()
        self._drained.set()
        self._started: Callable[[], None] | None = None
        index = resolve_device(device, kind="output")
        self._stream = sd.OutputStream(samplerate=rate, channels=1, dtype="float32",
                                       device=index, callback=self._callback)
        self._stream.start()

    def _callback(self, outdata, frames, time_info, status) -> None:
        with self._lock:
            chunk = self._buffer[:frames]
            self._buffer = self._buffer[frames:]
            started, self._started = self._started, None
        outdata[: len(chunk), 0] = chunk
        outdata[len(chunk):, 0] = 0.0
        if started is not None and len(chunk):
            started()
        if len(chunk) < frames:
            self._drained.set()

    def play(self, rendered: Rendered, on_start: Callable[[], None] | None = None) -> None:
        samples = rendered.samples
        if rendered.rate != self.rate:
            from facilitator.audio_in import resample

            samples = resample(samples, rendered.rate, self.rate).astype(np.float32)
        with self._lock:
            self._drained.clear()
            self._started = on_start
            self._buffer = np.concatenate([self._buffer, samples])
        deadline = time.monotonic() + len(samples) / self.rate + 5.0
        while not self._drained.wait(0.05):
            if time.monotonic() > deadline:
                raise SpeechError("the speaker stopped playing (device unplugged?)")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._stream.stop()
            self._stream.close()


class SilentOutput:
    """No loudspeaker: nothing is played; in real time the prompt's length still passes."""

    def __init__(self, realtime: bool = False):
        self.realtime = realtime

    def play(self, rendered: Rendered, on_start: Callable[[], None] | None = None) -> None:
        if on_start:
            on_start()
        if self.realtime:
            time.sleep(rendered.duration)

    def close(self) -> None:
        pass


@dataclass
class SpokenPrompt:
    text: str
    duration: float
    started: float        # time.monotonic() of the first sample
    engine_ok: bool = True
    audio: np.ndarray | None = None    # what was played (float32), for listeners such as the demo room
    rate: int = 0


class Voice:
    """Speaks prompts: render (cached), then play completely on the output."""

    def __init__(self, renderer: CheckedRenderer | None, output: Output):
        self.renderer = renderer
        self.output = output

    def say(self, text: str) -> SpokenPrompt:
        started = [time.monotonic()]
        if self.renderer is None:
            return SpokenPrompt(text, estimate_duration(text), started[0], engine_ok=False)
        try:
            rendered = self.renderer.render(text)
        except SpeechError:
            return SpokenPrompt(text, estimate_duration(text), started[0], engine_ok=False)

        def mark() -> None:
            started[0] = time.monotonic()

        self.output.play(rendered, on_start=mark)
        return SpokenPrompt(text, rendered.duration, started[0], True, rendered.samples, rendered.rate)

    def close(self) -> None:
        self.output.close()


def estimate_duration(text: str, words_per_minute: int = 165) -> float:
    return max(0.5, len(text.split()) * 60.0 / words_per_minute)
