"""Prompt spoken: text to audio with Piper (or pyttsx3, or espeak-ng), played completely, once.

The engine is `[speech] engine`: "piper" (a neural voice, the default), "pyttsx3" or
"espeak-ng". Each one that is chosen falls back to the next: Piper to pyttsx3 to the
espeak-ng program, when it is not installed (said once, at the start) or fails on a
prompt (logged, see `--verbose`). pyttsx3 is unreliable on Linux (an empty WAV now and
then), so every prompt is rendered to a buffer first, checked, rendered again by the next
engine if need be, and then played on one output stream that stays open. Rendered prompts
are cached, so a prompt said before starts at once. The engines themselves are in
`facilitator.speech_engines` and `facilitator.speech_piper`.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np

from facilitator.audio_files import resample
from facilitator.config import SpeechConfig
from facilitator.core import to_int16
from facilitator.loading import Loading
from facilitator.speech_engines import (  # noqa: F401  (Rendered, SpeechError: this room's API)
    EspeakRenderer, Pyttsx3Renderer, Rendered, SpeechError, close_pyttsx3,
)
from facilitator.speech_piper import PiperRenderer

log = logging.getLogger(__name__)


def _plausible(rendered: Rendered, text: str) -> bool:
    """A render that is empty or far too short for its words has failed."""
    words = max(1, len(text.split()))
    return rendered.duration >= min(0.25, 0.08 * words) and float(np.abs(rendered.samples).max(initial=0)) > 0.01


class Renderer(Protocol):
    def render(self, text: str) -> Rendered: ...


class CheckedRenderer:
    """The configured engine first, then the ones after it (Piper, pyttsx3, espeak-ng);
    results cached.

    An engine that cannot start (Piper or its voice not installed, a voice file not
    found) is left out with a warning saying how to fix it; each fallback on a prompt is
    logged (`facilitator --verbose` shows it), and a prompt none could render is kept in
    `failures`. `natural=False`: Piper renders without its random noise, the same audio for
    the same text in every process (sessions run faster than real time, which nobody hears
    live, so that a simulation gives the same record every time)."""

    def __init__(self, config: SpeechConfig, natural: bool = True):
        self.renderers: list[Renderer] = [EspeakRenderer(config.voice, config.rate, config.volume)]
        self.failures: list[str] = []          # prompts no engine could render
        self.unavailable: list[str] = []       # engines left out, and why
        if config.engine in ("piper", "pyttsx3"):
            self.renderers.insert(0, Pyttsx3Renderer(config.voice, config.rate, config.volume))
        if config.engine == "piper":
            try:
                piper = PiperRenderer(config.piper_voice, config.rate, config.volume, natural)
            except SpeechError as error:
                log.warning("speech: %s. pyttsx3 speaks instead (or set [speech] engine = "
                            "\"pyttsx3\").", error)
                self.unavailable.append(f"PiperRenderer: {error}")
            else:
                self.renderers.insert(0, piper)
                piper.load()        # in the background, after the models loading now
        self._cache: dict[str, tuple[np.ndarray, int]] = {}   # int16: half the memory
        self._lock = threading.Lock()
        self._rendering: dict[str, threading.Event] = {}   # texts being rendered now
        self._ahead: list[threading.Thread] = []
        self.closed = False

    def render(self, text: str) -> Rendered:
        """`text` rendered (from the cache when it was before); a text being rendered ahead
        right now is waited for, not rendered a second time."""
        cached = self._cached(text, wait=True)
        if cached is not None:
            return cached
        try:
            return self._render_now(text)
        finally:
            with self._lock:
                done = self._rendering.pop(text, None)
            if done is not None:
                done.set()

    def has(self, text: str) -> bool:
        """Whether `text` is rendered already, or being rendered now."""
        with self._lock:
            return text in self._cache or text in self._rendering

    def _cached(self, text: str, wait: bool) -> Rendered | None:
        """The cached rendering, waiting (up to 10 s) when another thread is rendering it;
        None when this thread is to render it (it is then marked as being rendered)."""
        while True:
            with self._lock:
                if text in self._cache:
                    samples, rate = self._cache[text]
                    return Rendered(samples.astype(np.float32) / 32767.0, rate)
                busy = self._rendering.get(text)
                if busy is None or not wait:
                    self._rendering[text] = threading.Event()
                    return None
            if not busy.wait(10.0):
                wait = False

    def _render_now(self, text: str) -> Rendered:
        problems = []
        for index, renderer in enumerate(self.renderers):
            name = type(renderer).__name__
            try:
                rendered = renderer.render(text)
            except Exception as error:  # any engine failure: try the next
                problems.append(f"{name}: {error}")
            else:
                if _plausible(rendered, text):
                    with self._lock:
                        self._cache[text] = (to_int16(rendered.samples), rendered.rate)
                    return rendered
                problems.append(f"{name}: empty or truncated audio")
            following = self.renderers[index + 1:]
            if following:
                log.info("speech: %s for %r; falling back to %s", problems[-1], text,
                         type(following[0]).__name__)
        self.failures.extend(problems)
        log.warning("speech: no engine could render %r (%s)", text, "; ".join(problems))
        raise SpeechError("; ".join(problems))

    def prepare(self, texts: list[str], at_once: bool = False) -> None:
        """Render prompts ahead of time (in a background thread) so they start at once.
        `at_once`: now, beside the models' loading (the welcome, said first); otherwise
        once the models have loaded (rendering meanwhile would slow the loading down and
        add to its memory)."""
        def work() -> None:
            if not at_once:
                Loading.join_all()
            for text in texts:
                if self.closed:
                    return
                with contextlib.suppress(Exception):
                    self.render(text)

        ahead = threading.Thread(target=work, name="prompt-prerender", daemon=True)
        self._ahead.append(ahead)
        ahead.start()

    def close(self, wait_s: float = 5.0) -> None:
        """No more rendering ahead (the prompt in hand is finished, within `wait_s`: a
        thread inside onnxruntime at exit would abort the process); engines with a
        thread of their own (pyttsx3) stop it."""
        self.closed = True
        deadline = time.monotonic() + wait_s
        for ahead in self._ahead:
            if ahead is not threading.current_thread():
                ahead.join(max(0.0, deadline - time.monotonic()))
        for renderer in self.renderers:
            closer = getattr(renderer, "close", None)
            if closer is not None:
                closer()


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
            samples = resample(samples, rendered.rate, self.rate)
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


SENTENCE_GAP_S = 0.25       # silence between two sentences played one after the other
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")


def sentences(text: str) -> list[str]:
    """`text` cut after each '.', '!' or '?' that a space follows."""
    return [part for part in _SENTENCE_END.split(text.strip()) if part]


class Voice:
    """Speaks prompts: render (cached), then play completely on the output. A prompt of
    several sentences that is not rendered yet starts as soon as its first sentence is:
    the others are rendered while it plays."""

    def __init__(self, renderer: CheckedRenderer | None, output: Output):
        self.renderer = renderer
        self.output = output

    def say(self, text: str) -> SpokenPrompt:
        started = [time.monotonic()]
        if self.renderer is None:
            return SpokenPrompt(text, estimate_duration(text), started[0], engine_ok=False)

        def mark() -> None:
            started[0] = time.monotonic()

        parts = sentences(text)
        try:
            if len(parts) < 2 or self.renderer.has(text):
                rendered = self.renderer.render(text)
                self.output.play(rendered, on_start=mark)
            else:
                rendered = self._say_sentences(parts, mark)
        except SpeechError:
            return SpokenPrompt(text, estimate_duration(text), started[0], engine_ok=False)
        return SpokenPrompt(text, rendered.duration, started[0], True, rendered.samples, rendered.rate)

    def _say_sentences(self, parts: list[str], mark: Callable[[], None]) -> Rendered:
        """Play `parts` one after the other (rendering the next while one plays); returns
        all that was played, as one piece."""
        assert self.renderer is not None
        first = self.renderer.render(parts[0])
        self.renderer.prepare(parts[1:], at_once=True)
        played: list[np.ndarray] = []
        rate = first.rate
        for number, part in enumerate(parts):
            rendered = first if number == 0 else self.renderer.render(part)
            samples = rendered.samples if rendered.rate == rate else resample(rendered.samples, rendered.rate, rate)
            if number < len(parts) - 1:
                samples = np.concatenate([samples, np.zeros(int(SENTENCE_GAP_S * rate), np.float32)])
            self.output.play(Rendered(samples, rate), on_start=mark if number == 0 else None)
            played.append(samples)
        return Rendered(np.concatenate(played), rate)

    def close(self) -> None:
        self.output.close()
        if self.renderer is not None and hasattr(self.renderer, "close"):
            self.renderer.close()


def estimate_duration(text: str, words_per_minute: int = 165) -> float:
    return max(0.5, len(text.split()) * 60.0 / words_per_minute)
