"""Prompt spoken: the one pyttsx3 worker of the process, its time limit counted from when a
prompt is taken up, closing it, and the fallback from engine to engine (each one logged)."""

from __future__ import annotations

import io
import logging
import threading
import time
import wave

import numpy as np
import pytest

from facilitator import speech_engines
from facilitator.config import SpeechConfig
from facilitator.speech_engines import Pyttsx3Renderer, close_pyttsx3, pyttsx3_worker
from facilitator.speech_out import CheckedRenderer, Rendered, SilentOutput, SpeechError, Voice


def wav_bytes(seconds: float = 1.0, rate: int = 22050) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(rate)
        out.writeframes((0.3 * np.sin(2 * np.pi * 200 * t) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


class FakeEngine:
    """pyttsx3's engine as the worker uses it: each runAndWait takes `seconds` (or blocks
    until `release` is set) and then writes the file; `busy` counts runs at the same time."""

    def __init__(self, seconds: float = 0.0, release: threading.Event | None = None):
        self.seconds, self.release = seconds, release
        self.busy = self.most_busy = self.runs = 0
        self.lock = threading.Lock()
        self.pending: list[str] = []

    def setProperty(self, name, value):
        pass

    def save_to_file(self, text, path):
        self.pending.append(path)

    def runAndWait(self):
        with self.lock:
            self.busy += 1
            self.most_busy = max(self.most_busy, self.busy)
            self.runs += 1
        if self.release is not None:
            self.release.wait()
        time.sleep(self.seconds)
        for path in self.pending:
            with open(path, "wb") as handle:
                handle.write(wav_bytes())
        self.pending.clear()
        with self.lock:
            self.busy -= 1


@pytest.fixture
def fake_engine(monkeypatch):
    """A fresh process worker driving a fake engine; closed again afterwards."""
    close_pyttsx3()
    engines: list[FakeEngine] = []

    def use(engine: FakeEngine) -> FakeEngine:
        engines.append(engine)
        return engine

    monkeypatch.setattr(speech_engines, "_new_engine", lambda: engines[0])
    yield use
    if engines and engines[0].release is not None:
        engines[0].release.set()
    close_pyttsx3()


def render_all(renderers, texts) -> tuple[list, float]:
    results: list = [None] * len(texts)

    def one(i):
        try:
            results[i] = renderers[i % len(renderers)].render(texts[i])
        except SpeechError as error:
            results[i] = error

    started = time.monotonic()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(texts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.monotonic() - started


def test_renderers_share_one_worker_and_never_drive_the_engine_at_once(fake_engine) -> None:
    engine = fake_engine(FakeEngine(seconds=0.05))
    renderers = [Pyttsx3Renderer(wait_s=1.0), Pyttsx3Renderer(wait_s=1.0, voice="en-us+f3")]
    results, _ = render_all(renderers, [f"prompt {i}" for i in range(6)])
    assert all(isinstance(r, Rendered) and r.duration > 0.9 for r in results), results
    assert engine.runs == 6 and engine.most_busy == 1
    assert [t.name for t in threading.enumerate()].count("pyttsx3") == 1


def test_the_time_limit_counts_from_when_a_prompt_is_taken_up(fake_engine) -> None:
    """Three prompts of 0.6 s each behind one another: the last waits 1.2 s in the queue,
    more than its 1 s limit, and still succeeds."""
    fake_engine(FakeEngine(seconds=0.6))
    renderer = Pyttsx3Renderer(wait_s=0.5, limit_s=1.0)
    results, took = render_all([renderer], ["one", "two", "three"])
    assert all(isinstance(r, Rendered) for r in results), results
    assert took > 1.5


def test_a_stuck_engine_fails_once_in_time_then_at_once(fake_engine) -> None:
    release = threading.Event()
    fake_engine(FakeEngine(release=release))
    renderer = Pyttsx3Renderer(wait_s=0.2, limit_s=0.5)
    started = time.monotonic()
    with pytest.raises(SpeechError, match="did not answer within"):
        renderer.render("first")
    assert 0.4 < time.monotonic() - started < 2.0
    started = time.monotonic()
    with pytest.raises(SpeechError, match="stuck"):
        renderer.render("second")
    assert time.monotonic() - started < 0.2
    release.set()


def test_closing_ends_the_thread_and_the_next_prompt_starts_a_new_one(fake_engine) -> None:
    fake_engine(FakeEngine())
    renderer = Pyttsx3Renderer(wait_s=1.0)
    assert isinstance(renderer.render("hello"), Rendered)
    worker = pyttsx3_worker()
    close_pyttsx3()
    assert worker.closed and not worker._thread.is_alive()
    assert "pyttsx3" not in [t.name for t in threading.enumerate()]
    assert isinstance(Pyttsx3Renderer(wait_s=1.0).render("again"), Rendered)
    assert pyttsx3_worker() is not worker
    renderer.close()
    with pytest.raises(SpeechError, match="closed"):
        renderer.render("after close")


def test_closing_drops_the_queued_prompts(fake_engine) -> None:
    release = threading.Event()
    fake_engine(FakeEngine(release=release))
    renderer = Pyttsx3Renderer(wait_s=0.2, limit_s=10.0)
    outcome: list = []
    threads = [threading.Thread(target=lambda t=t: outcome.append(_try(renderer, t)))
               for t in ("in hand", "queued 1", "queued 2")]
    for thread in threads:
        thread.start()
        time.sleep(0.1)
    started = time.monotonic()
    threading.Timer(0.3, release.set).start()
    close_pyttsx3()
    for thread in threads:
        thread.join(5)
    assert time.monotonic() - started < 3
    assert sorted(type(o).__name__ for o in outcome) == ["Rendered", "SpeechError", "SpeechError"]


def _try(renderer, text):
    try:
        return renderer.render(text)
    except SpeechError as error:
        return error


class Broken:
    def __init__(self):
        self.calls = []

    def render(self, text):
        self.calls.append(text)
        raise SpeechError("engine crashed")


class Empty:
    def __init__(self):
        self.calls = []

    def render(self, text):
        self.calls.append(text)
        return Rendered(np.zeros(10, np.float32), 22050)


class Good:
    def __init__(self):
        self.calls = []

    def render(self, text):
        self.calls.append(text)
        return Rendered(0.3 * np.ones(22050, np.float32), 22050)


def test_every_fallback_is_logged_and_the_last_engine_speaks(caplog) -> None:
    renderer = CheckedRenderer(SpeechConfig(engine="espeak-ng"))
    broken, empty, good = Broken(), Empty(), Good()
    renderer.renderers = [broken, empty, good]
    with caplog.at_level(logging.INFO, logger="facilitator"):
        rendered = renderer.render("Is there more?")
    assert broken.calls == empty.calls == good.calls == ["Is there more?"]
    assert rendered.duration == pytest.approx(1.0)
    fallbacks = [r.getMessage() for r in caplog.records if "falling back" in r.getMessage()]
    assert len(fallbacks) == 2
    assert "engine crashed" in fallbacks[0] and "Empty" in fallbacks[0]
    assert "empty or truncated" in fallbacks[1] and "Good" in fallbacks[1]
    assert renderer.failures == []                      # it was spoken in the end
    again = renderer.render("Is there more?")          # from the cache (kept as int16)
    assert good.calls == ["Is there more?"] and again.duration == rendered.duration
    assert np.abs(again.samples - rendered.samples).max() < 1e-4


def test_when_every_engine_fails_the_voice_goes_on_without_sound(caplog) -> None:
    renderer = CheckedRenderer(SpeechConfig(engine="espeak-ng"))
    renderer.renderers = [Broken(), Empty()]
    with caplog.at_level(logging.INFO, logger="facilitator"):
        with pytest.raises(SpeechError, match="engine crashed.*empty or truncated"):
            renderer.render("Did I get that?")
    assert len(renderer.failures) == 2
    assert any(r.levelno == logging.WARNING and "no engine" in r.getMessage() for r in caplog.records)
    spoken = Voice(renderer, SilentOutput()).say("Did I get that?")
    assert not spoken.engine_ok and spoken.duration > 0


def test_two_real_renderers_in_one_process_answer_at_once() -> None:
    """The bug this worker fixes: each renderer had its own thread on pyttsx3's one engine
    (two at once crashed espeak-ng's library or waited out the limit on every prompt)."""
    close_pyttsx3()
    first, second = (CheckedRenderer(SpeechConfig(engine="pyttsx3")),
                     CheckedRenderer(SpeechConfig(engine="pyttsx3")))
    results, took = render_all([first.renderers[0], second.renderers[0]],
                               [f"Prompt number {i}. Is there more?" for i in range(6)])
    assert all(isinstance(r, Rendered) and r.duration > 1.0 for r in results), results
    assert took < 8.0
    first.close()
    second.close()


def test_a_prompt_being_rendered_ahead_is_waited_for_not_rendered_twice() -> None:
    calls: list[str] = []
    started = threading.Event()

    class SlowEngine:
        def render(self, text: str) -> Rendered:
            calls.append(text)
            started.set()
            time.sleep(0.3)
            return Rendered(np.full(16000, 0.3, np.float32), 16000)

    renderer = CheckedRenderer(SpeechConfig(engine="espeak-ng"))
    renderer.renderers = [SlowEngine()]
    ahead = threading.Thread(target=renderer.render, args=("Welcome to your dialogue.",))
    ahead.start()
    assert started.wait(2)
    again = renderer.render("Welcome to your dialogue.")
    ahead.join()
    assert calls == ["Welcome to your dialogue."]
    assert again.duration == pytest.approx(1.0, abs=0.01)


# -- a prompt of several sentences starts with its first ------------------------------------
class Counting:
    """A renderer that takes `seconds` per text and notes what it rendered, when."""

    def __init__(self, seconds: float = 0.05):
        self.seconds, self.calls = seconds, []

    def render(self, text: str) -> Rendered:
        time.sleep(self.seconds)
        self.calls.append((text, time.monotonic()))
        return Rendered(np.full(int(0.1 * 22050 * len(text.split())), 0.2, np.float32), 22050)


class Noting(SilentOutput):
    def __init__(self):
        super().__init__(realtime=True)
        self.played: list[tuple[float, float]] = []      # (when, seconds)

    def play(self, rendered, on_start=None):
        self.played.append((time.monotonic(), rendered.duration))
        super().play(rendered, on_start)


def test_sentences_are_cut_after_their_end_mark() -> None:
    from facilitator.speech_out import sentences

    assert sentences("Welcome. Alex, you first! Is now a good time?  ") == [
        "Welcome.", "Alex, you first!", "Is now a good time?"]
    assert sentences("Say: I would like a dialogue. 3.5 minutes.") == [
        "Say: I would like a dialogue.", "3.5 minutes."]
    assert sentences("No end mark") == ["No end mark"]


def test_a_prompt_not_rendered_yet_starts_when_its_first_sentence_is() -> None:
    from facilitator.speech_out import SENTENCE_GAP_S

    renderer = CheckedRenderer(SpeechConfig(engine="espeak-ng"))
    fake = Counting(seconds=0.3)
    renderer.renderers = [fake]
    output = Noting()
    text = "Welcome to your dialogue. Alex, you will be the Sender first. Is now a good time?"
    asked = time.monotonic()
    spoken = Voice(renderer, output).say(text)
    assert [call[0] for call in fake.calls] == [
        "Welcome to your dialogue.", "Alex, you will be the Sender first.", "Is now a good time?"]
    assert len(output.played) == 3
    assert output.played[0][0] - asked < 0.45          # one sentence's rendering, not three
    assert fake.calls[1][1] < output.played[1][0]      # the next rendered while the first played
    pieces = sum(seconds for _, seconds in output.played)
    assert spoken.duration == pytest.approx(pieces)
    assert len(spoken.audio) == pytest.approx(pieces * 22050, abs=2)
    assert spoken.duration == pytest.approx((4 + 7 + 5) * 0.1 + 2 * SENTENCE_GAP_S, abs=0.01)
    renderer.close()


def test_a_prompt_rendered_ahead_is_played_in_one_piece() -> None:
    renderer = CheckedRenderer(SpeechConfig(engine="espeak-ng"))
    fake = Counting(seconds=0.0)
    renderer.renderers = [fake]
    text = "Thank you. Is there more?"
    renderer.render(text)
    output = Noting()
    Voice(renderer, output).say(text)
    assert len(output.played) == 1 and [c[0] for c in fake.calls] == [text]
    renderer.close()
