"""The live loop keeps going when a room fails: fakes for the speech model, the judge, the
voice and who spoke; the turn audio is espeak-ng speech fed frame by frame."""

from __future__ import annotations

import shutil
import time

import numpy as np
import pytest

from facilitator.audio_in import Frame
from facilitator.config import Config
from facilitator.dialogue import Dialogue, Script
from facilitator.events import EventBus
from facilitator.judging import Verdict
from facilitator.session import Session
from facilitator.speech_out import SpokenPrompt
from facilitator.transcribe import Transcript

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")


class ArraySource:
    name = "test"
    sample_rate = 16000
    frame_samples = 480

    def __init__(self, audio: np.ndarray):
        self.audio = audio

    def frames(self):
        for start in range(0, len(self.audio) - self.frame_samples + 1, self.frame_samples):
            block = self.audio[start:start + self.frame_samples]
            yield Frame(block, start / 16000, None, time.monotonic())

    def close(self) -> None:
        pass


class SilentVoice:
    renderer = None

    def say(self, text: str) -> SpokenPrompt:
        return SpokenPrompt(text, 0.2, time.monotonic())

    def close(self) -> None:
        pass


class FixedWords:
    def __init__(self, text: str):
        self.text = text

    def transcribe(self, audio, context: str = "") -> Transcript:
        return Transcript(self.text)

    def set_glossary(self, words: str) -> None:
        pass


class PassingJudge:
    def judge(self, kind, context, reply):
        return Verdict(kind, {"mirror": "mirror"}.get(kind, "safe"), 0.9)


class BrokenAttributor:
    method = "voice"

    def __init__(self):
        self.calls = 0

    def decide(self, audio, stereo, expected):
        self.calls += 1
        raise IndexError("index 98 is out of bounds for axis 0 with size 89")


def _turns(say, texts: list[str]) -> np.ndarray:
    gap = np.zeros(int(3.5 * 16000), np.int16)
    parts = [np.zeros(16000, np.int16)]
    for text in texts:
        parts += [say(text), gap]
    return np.concatenate(parts)


def test_a_failure_in_who_spoke_falls_back_to_turn_order_and_goes_on(say):
    events: list[dict] = []
    bus = EventBus()
    bus.subscribe(events.append)
    config = Config()
    script = Script.load("intentional_dialogue")
    dialogue = Dialogue(script, {"A": "Alex", "B": "Sam"})
    attributor = BrokenAttributor()
    audio = _turns(say, ["Sam, I would like to have a dialogue. Is now a good time?",
                         "Yes, you did."])
    session = Session(config, ArraySource(audio), SilentVoice(), FixedWords("Yes, you did."),
                      PassingJudge(), dialogue, bus, attributor=attributor)
    reason = session.run()
    turns = [e for e in events if e["type"] == "turn"]
    errors = [e for e in events if e["type"] == "error"]
    assert reason == "input_end"
    assert attributor.calls >= 2
    assert len(turns) == 2
    assert all(t["speaker_method"] == "turn_order" for t in turns)
    assert len(errors) == len(turns) and "turn order" in errors[0]["message"]
    assert events[-1]["type"] == "end" and events[-1]["reason"] == "input_end"


def test_a_crash_elsewhere_in_the_loop_is_an_error_event_and_an_end(say):
    events: list[dict] = []
    bus = EventBus()
    bus.subscribe(events.append)

    class ExplodingWords(FixedWords):
        def transcribe(self, audio, context=""):
            raise RuntimeError("decoder blew up")

    dialogue = Dialogue(Script.load("intentional_dialogue"), {"A": "Alex", "B": "Sam"})
    session = Session(Config(), ArraySource(_turns(say, ["Is now a good time to talk?"])),
                      SilentVoice(), ExplodingWords(""), PassingJudge(), dialogue, bus)
    assert session.run() == "error"
    assert [e for e in events if e["type"] == "error"][0]["message"].startswith("internal error")
    assert events[-1] == {**events[-1], "type": "end", "reason": "error"}


def test_early_who_spoke_in_a_long_turn_is_spaced_out_not_at_every_pause():
    from facilitator.session import _worth_deciding_again

    assert _worth_deciding_again(8.0, 0.5)              # short turns: at every pause
    assert not _worth_deciding_again(60.0, 4.0)         # a monologue: not every 4 s ...
    assert _worth_deciding_again(60.0, 15.0)            # ... but as it grows by a share
    lengths, decided, decisions = range(4, 601, 4), 0.0, 0
    for length in lengths:                              # 10 minutes, a pause every 4 s
        if _worth_deciding_again(length, length - decided):
            decided, decisions = length, decisions + 1
    assert decisions < 25                               # at every pause it would be 150
