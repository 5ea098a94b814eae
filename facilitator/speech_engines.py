"""The speech engines: text to audio with the espeak-ng program or with pyttsx3.

Each renders a sentence to a buffer (`Rendered`) and raises `SpeechError` when it fails.
pyttsx3 keeps one engine per process, driven by one worker thread (`Pyttsx3Worker`) that
every `Pyttsx3Renderer` shares; `facilitator.speech_out` checks what an engine rendered
and falls back from one to the next.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from facilitator.audio_files import AudioFileError, decode_audio

log = logging.getLogger(__name__)


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
    """A speech engine's WAV bytes as float32 mono at the engine's own rate."""
    try:
        samples, rate = decode_audio(data, what="speech engine's audio")
    except AudioFileError as error:
        raise SpeechError(str(error)) from None
    return Rendered(samples, rate)


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


@dataclass
class _Job:
    """One prompt for the pyttsx3 worker; `started` is set when the worker takes it up."""

    text: str
    settings: tuple[str, int, float]           # voice, rate, volume
    wait_s: float
    started: float | None = None
    cancelled: bool = False
    result: "Rendered | SpeechError | None" = None
    done: threading.Event = field(default_factory=threading.Event)


class Pyttsx3Worker:
    """The one thread in the process that drives pyttsx3.

    `pyttsx3.init()` hands every caller the same engine (one per driver and process), and
    that engine runs one `runAndWait()` at a time, so every `Pyttsx3Renderer` sends its
    prompts here, one after the other. runAndWait() can return before the file is
    written, so each file is awaited until it is a complete WAV whose size has stopped
    growing. `close()` ends the thread; the next prompt starts a new one.
    """

    def __init__(self) -> None:
        self._jobs: "queue.Queue[_Job | None]" = queue.Queue()
        self._folder = tempfile.mkdtemp(prefix="facilitator-tts-")
        self._count = 0
        self.current: _Job | None = None
        self.closed = False
        self._thread = threading.Thread(target=self._work, name="pyttsx3", daemon=True)
        self._thread.start()

    def submit(self, job: _Job) -> None:
        if self.closed:
            raise SpeechError("the pyttsx3 worker is closed")
        self._jobs.put(job)

    def stuck_for(self) -> float:
        """Seconds the job in hand has been running (0 when idle)."""
        job = self.current
        return time.monotonic() - job.started if job is not None and job.started else 0.0

    def close(self, wait_s: float = 2.0) -> None:
        """Refuse new prompts, drop the queued ones, and end the thread once the prompt in
        hand is done (waiting up to `wait_s` for it)."""
        if self.closed:
            return
        self.closed = True
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                job.cancelled = True
                job.result = SpeechError("the pyttsx3 worker was closed")
                job.done.set()
        self._jobs.put(None)
        if threading.current_thread() is not self._thread:
            self._thread.join(wait_s)
        if not self._thread.is_alive():
            shutil.rmtree(self._folder, ignore_errors=True)

    def _work(self) -> None:
        engine, settings = None, None
        while True:
            job = self._jobs.get()
            if job is None:
                break
            if job.cancelled:
                continue
            if self.closed:
                job.result = SpeechError("the pyttsx3 worker was closed")
                job.done.set()
                continue
            job.started = time.monotonic()
            self.current = job
            try:
                if engine is None:
                    engine, settings = _new_engine(), None
                if job.settings != settings:
                    _configure(engine, *job.settings)
                    settings = job.settings
                self._count += 1
                path = os.path.join(self._folder, f"prompt-{self._count}.wav")
                engine.save_to_file(job.text, path)
                engine.runAndWait()
                job.result = _collect(path, job.wait_s)
            except Exception as error:  # the engine is in doubt: a fresh one next time
                engine = None
                job.result = SpeechError(f"pyttsx3 failed: {error}")
            finally:
                self.current = None
                job.done.set()
        shutil.rmtree(self._folder, ignore_errors=True)


def _new_engine():
    import pyttsx3

    engine = pyttsx3.init()
    _quiet_pyttsx3_driver()
    return engine


def _configure(engine, voice: str, rate: int, volume: float) -> None:
    engine.setProperty("rate", rate)
    engine.setProperty("volume", volume)
    try:
        engine.setProperty("voice", voice)
    except Exception as error:
        log.info("pyttsx3 has no voice %r (%s); its default voice speaks", voice, error)


def _collect(path: str, wait_s: float) -> Rendered | SpeechError:
    deadline = time.monotonic() + wait_s
    last_size = -1
    while time.monotonic() < deadline:
        size = os.path.getsize(path) if os.path.exists(path) else -1
        if size > 44 and size == last_size:
            try:
                with open(path, "rb") as handle:
                    return _decode_wav(handle.read())
            except (OSError, SpeechError):
                pass
            finally:
                with contextlib.suppress(OSError):
                    os.remove(path)
        last_size = size
        time.sleep(0.03)
    return SpeechError("pyttsx3 wrote no usable audio in time")


_worker: Pyttsx3Worker | None = None
_worker_lock = threading.Lock()


def pyttsx3_worker() -> Pyttsx3Worker:
    """The process's pyttsx3 worker, started on first use (again after `close_pyttsx3`)."""
    global _worker
    with _worker_lock:
        if _worker is None or _worker.closed:
            _worker = Pyttsx3Worker()
        return _worker


def close_pyttsx3() -> None:
    """End the process's pyttsx3 worker thread, if one runs (also done at exit)."""
    with _worker_lock:
        worker = _worker
    if worker is not None:
        worker.close()


atexit.register(close_pyttsx3)


class Pyttsx3Renderer:
    """pyttsx3's save_to_file on the process's one pyttsx3 worker, checked.

    The time limit counts from when the worker takes the prompt up, not from when it was
    queued behind others; when the worker has been stuck on an earlier prompt past the
    limit, this fails at once (and the caller falls back) instead of waiting again.
    """

    def __init__(self, voice: str = "en-us+f2", rate: int = 165, volume: float = 0.9,
                 wait_s: float = 3.0, limit_s: float | None = None):
        """`wait_s`: how long a written file may take to appear complete; `limit_s` (default
        `wait_s` + 5 s): how long one prompt may take from when the worker takes it up."""
        self.voice, self.rate, self.volume, self.wait_s = voice, rate, volume, wait_s
        self.limit_s = wait_s + 5.0 if limit_s is None else limit_s
        self.closed = False

    def render(self, text: str) -> Rendered:
        if self.closed:
            raise SpeechError("the pyttsx3 renderer is closed")
        worker = pyttsx3_worker()
        if worker.stuck_for() > self.limit_s:
            raise SpeechError(f"pyttsx3 has been stuck on a prompt for {worker.stuck_for():.0f} s")
        job = _Job(text, (self.voice, self.rate, self.volume), self.wait_s)
        worker.submit(job)
        while not job.done.wait(0.05):
            if job.started is not None and time.monotonic() - job.started > self.limit_s:
                raise SpeechError(f"pyttsx3 did not answer within {self.limit_s:.0f} s")
            if job.started is None and (worker.stuck_for() > self.limit_s or worker.closed):
                job.cancelled = True
                raise SpeechError("pyttsx3 is stuck on an earlier prompt" if not worker.closed
                                  else "the pyttsx3 worker was closed")
        if isinstance(job.result, SpeechError):
            raise job.result
        assert job.result is not None
        return job.result

    def close(self) -> None:
        """This renderer takes no more prompts, and the shared worker thread ends."""
        self.closed = True
        close_pyttsx3()
