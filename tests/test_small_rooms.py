import json

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


def test_renderer_falls_back_to_espeak_when_pyttsx3_fails(caplog):
    from facilitator.speech_out import EspeakRenderer

    renderer = CheckedRenderer(SpeechConfig(engine="espeak-ng"))
    broken, empty = Broken(), Empty()
    renderer.renderers.insert(0, broken)
    renderer.renderers.insert(1, empty)
    with caplog.at_level("INFO", logger="facilitator"):
        rendered = renderer.render("Is there more?")
    # the chain was walked: the broken engine, the empty one, then espeak-ng spoke
    assert broken.calls == ["Is there more?"] and empty.calls == ["Is there more?"]
    direct = EspeakRenderer().render("Is there more?")
    assert rendered.rate == direct.rate and abs(rendered.duration - direct.duration) < 0.05
    assert rendered.duration > 0.5 and np.abs(rendered.samples).max() > 0.05
    logged = [r.getMessage() for r in caplog.records if "falling back" in r.getMessage()]
    assert len(logged) == 2 and "engine crashed" in logged[0] and "EspeakRenderer" in logged[1]
    assert renderer.failures == []                         # success: no failure kept
    again = renderer.render("Is there more?")              # cached: no engine asked again
    assert again.rate == rendered.rate and np.abs(again.samples - rendered.samples).max() < 1e-4
    assert len(broken.calls) == 1


def test_pyttsx3_renders_many_prompts_completely():
    renderer = CheckedRenderer(SpeechConfig(engine="pyttsx3"))
    durations = [renderer.render(f"Prompt number {i}. Is there more?").duration for i in range(5)]
    assert all(d > 1.0 for d in durations)


def test_voice_without_loudspeaker_reports_duration():
    voice = Voice(CheckedRenderer(SpeechConfig(engine="espeak-ng")), SilentOutput())
    spoken = voice.say("Did I get that?")
    assert 0.5 < spoken.duration < 3 and spoken.audio is not None


def test_two_microphone_devices_are_read_as_one_stereo_input():
    from facilitator.audio_in import DeviceLost, Frame, PairedMicrophones

    class FakeMicrophone:
        def __init__(self, name, level, frames=3):
            self.name, self.level, self.count = name, level, frames
            self.sample_rate, self.frame_samples, self.captured_s = 16000, 480, 0.09
            self.closed = False

        def wait_ready(self):
            pass

        def frames(self):
            for i in range(self.count):
                yield Frame(np.full(480, self.level, np.int16), i * 0.03, None, float(i))
            raise DeviceLost(f"{self.name} stopped sending sound")

        def close(self):
            self.closed = True

    first, second = FakeMicrophone("left", 1000), FakeMicrophone("right", -200, frames=5)
    pair = PairedMicrophones(first, second)
    assert pair.name == "left + right" and pair.channels == 2
    frames = []
    with pytest.raises(DeviceLost, match="left"):
        for frame in pair.frames():
            frames.append(frame)
    assert [f.t for f in frames] == [0.0, 0.03, 0.06]
    assert frames[0].channels.shape == (480, 2)
    assert (frames[0].channels[:, 0] == 1000).all() and (frames[0].channels[:, 1] == -200).all()
    assert (frames[0].samples == 400).all()          # the mix, for turn-taking and transcription
    pair.close()
    assert first.closed and second.closed


def test_second_device_turns_on_two_microphone_mode(tmp_path):
    import argparse

    from facilitator.commands_run import _load_config

    config_file = tmp_path / "config.toml"
    config_file.write_text('[audio]\nsecond_device = "USB 2"\n')
    config = _load_config(argparse.Namespace(config=config_file))
    assert config.audio.channels == 2 and config.audio.second_device == "USB 2"
    config = _load_config(argparse.Namespace(config=None, device="1", second_device="2"))
    assert (config.audio.device, config.audio.second_device, config.audio.channels) == ("1", "2", 2)
