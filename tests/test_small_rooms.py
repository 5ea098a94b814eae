import json
import threading

import numpy as np
import pytest

from facilitator.record import RecordWriter
from facilitator.speech_out import CheckedRenderer, Rendered, SilentOutput, SpeechError, Voice
from facilitator.config import SpeechConfig
from facilitator.spoken_commands import CommandReader
from facilitator.transcribe import drop_repeats, is_hallucination


def test_record_lines_are_on_disk_as_they_happen(tmp_path):
    writer = RecordWriter(tmp_path / "s" / "r.jsonl")
    writer({"type": "turn", "t": 1.0, "text": "hello"})
    writer({"type": "_timing", "t": 1.0})
    lines = (tmp_path / "s" / "r.jsonl").read_text().splitlines()  # before close
    assert [json.loads(l)["type"] for l in lines] == ["turn"]
    writer.close()


def test_spoken_commands():
    reader = CommandReader()
    assert reader.read("Repeat that, please.") == "repeat"
    assert reader.read("Facilitator, pause.") == "pause"
    assert reader.read("Resume.") == "resume"
    assert reader.read("Stop!") == "stop"
    assert reader.read("I want you to stop leaving dishes in the sink.") is None


def test_hallucinations_and_repeats():
    assert is_hallucination("Thank you.") and is_hallucination(" you") and is_hallucination("")
    assert not is_hallucination("Thank you for listening to me.")
    assert drop_repeats("Did I get that? Did I get that?") == "Did I get that?"
    assert drop_repeats("Yes. No. Yes.") == "Yes. No. Yes."


class Broken:
    def render(self, text):
        raise SpeechError("engine crashed")


class Empty:
    def render(self, text):
        return Rendered(np.zeros(10, np.float32), 22050)


def test_renderer_falls_back_to_espeak_when_pyttsx3_fails():
    renderer = CheckedRenderer(SpeechConfig(engine="espeak-ng"))
    renderer.renderers.insert(0, Broken())
    renderer.renderers.insert(1, Empty())
    rendered = renderer.render("Is there more?")
    assert rendered.duration > 0.5
    assert any("engine crashed" in f for f in renderer.failures) is False  # success: no failure kept
    assert renderer.render("Is there more?") is rendered  # cached


def test_pyttsx3_renders_many_prompts_completely():
    renderer = CheckedRenderer(SpeechConfig())
    durations = [renderer.render(f"Prompt number {i}. Is there more?").duration for i in range(5)]
    assert all(d > 1.0 for d in durations)


def test_voice_without_loudspeaker_reports_duration():
    voice = Voice(CheckedRenderer(SpeechConfig(engine="espeak-ng")), SilentOutput())
    spoken = voice.say("Did I get that?")
    assert 0.5 < spoken.duration < 3 and spoken.audio is not None
