"""End-to-end: synthetic partners (espeak-ng) fed as an audio stream through the real pipeline."""

from __future__ import annotations

import difflib
import json
import re

import numpy as np
import pytest

from facilitator.app import RunOptions, build_session, run_session
from facilitator.audio_in import DeviceLost, Frame
from facilitator.config import Config
from facilitator.demo import Line, SimulatedRoom, load_demo_lines, render_lines
from facilitator.synth import speak_to_array

pytestmark = pytest.mark.e2e


def words(text):
    return re.findall(r"[a-z']+", text.lower())


def similarity(a, b):
    return difflib.SequenceMatcher(None, words(a), words(b)).ratio()


def run_room(tmp_path, room, transcriber, names=None, config=None):
    config = config or Config()
    options = RunOptions(realtime=False, speak_aloud=False, record_path=tmp_path / "record.jsonl",
                         input_name="test", display=False, names=names or {"A": "Alex", "B": "Sam"})
    session, writer = build_session(config, room, options, transcriber=transcriber)
    if hasattr(room, "listen"):
        session.bus.subscribe(room.listen)
    reason = run_session(session, writer)
    events = [json.loads(line) for line in (tmp_path / "record.jsonl").read_text().splitlines()]
    return reason, events


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory, transcriber):
    names, lines = load_demo_lines()
    render_lines(lines)
    room = SimulatedRoom(lines, echo=True)   # the room's microphone hears the facilitator too
    reason, events = run_room(tmp_path_factory.mktemp("demo"), room, transcriber, names)
    return reason, events, lines, room


def test_demo_session_completes_with_steps_in_order(demo_run):
    reason, events, _, _ = demo_run
    assert reason == "complete"
    assert events[0]["type"] == "session" and events[-1] == {**events[-1], "type": "end", "reason": "complete"}
    steps = [e["name"] for e in events if e["type"] == "step"]
    expected = ["appointment", "availability", "send", "mirror", "confirm", "more", "summary",
                "summary_confirm", "validate", "empathize", "empathy_confirm", "round_end", "switch",
                "send", "mirror", "confirm", "more", "summary", "summary_confirm", "validate",
                "empathize", "empathy_confirm", "round_end", "appreciate_sender",
                "appreciate_receiver", "close"]
    assert steps == expected
    times = [e["t"] for e in events]
    assert times == sorted(times)


def test_transcripts_are_close_to_what_was_said(demo_run):
    _, events, lines, room = demo_run
    turns = [e for e in events if e["type"] == "turn"]
    assert len(turns) == len(lines)
    scores = [similarity(turn["text"], line.text.replace("|", " ")) for turn, line in zip(turns, lines)]
    assert np.mean(scores) > 0.85, list(zip(scores, [t["text"] for t in turns]))
    assert min(scores) > 0.5
    # times are on the input's timeline: each turn sits where the room played its line
    for turn, (speaker, start, end) in zip(turns, room.spoken):
        assert turn["speaker"] == speaker
        assert abs(turn["start"] - start) < 0.5 and abs(turn["end"] - end) < 0.5


def test_the_partial_mirror_is_caught_and_retried(demo_run):
    _, events, _, _ = demo_run
    mirrors = [e for e in events if e["type"] == "verdict" and e["kind"] == "mirror"]
    assert mirrors[0]["label"] in ("partial", "not_mirror")
    assert mirrors[0]["missing"], "the verdict should name what was missed"
    assert mirrors[1]["label"] == "mirror"
    first_bad = events.index(mirrors[0])
    prompt_after = next(e for e in events[first_bad:] if e["type"] == "prompt")
    assert "try again" in prompt_after["text"].lower()


def test_prompts_are_recorded_and_never_transcribed(demo_run):
    _, events, _, _ = demo_run
    prompts = [e["text"] for e in events if e["type"] == "prompt"]
    assert any("Welcome" in p for p in prompts) and any("is there more" in p.lower() for p in prompts)
    assert prompts[-1].startswith("Thank you both")
    heard = " ".join(e["text"].lower() for e in events if e["type"] == "turn")
    for phrase in ("please mirror what you heard", "is there more", "summarize everything",
                   "now please validate", "welcome to your imago"):
        assert phrase not in heard


class ScriptedRoom(SimulatedRoom):
    pass


def lines_of(*pairs):
    lines = [Line(speaker, text) for speaker, text in pairs]
    render_lines(lines)
    return lines


def test_spoken_commands_repeat_pause_resume_stop(tmp_path, transcriber):
    lines = lines_of(("A", "Repeat that, please."), ("A", "Pause."),
                     ("A", "I would like to have a dialogue. Is now a good time?"),
                     ("A", "Resume."), ("A", "I would like to have a dialogue. Is now a good time?"),
                     ("B", "Stop."))
    reason, events = run_room(tmp_path, SimulatedRoom(lines), transcriber)
    assert reason == "stopped"
    controls = [e["action"] for e in events if e["type"] == "control"]
    assert controls == ["repeat", "pause", "resume", "stop"]
    prompts = [e["text"] for e in events if e["type"] == "prompt"]
    assert prompts[0] == prompts[1] and prompts[0].startswith("Welcome")   # repeated
    steps = [e["name"] for e in events if e["type"] == "step"]
    assert steps == ["appointment", "availability"]   # the turn said while paused did not count
    assert events[-1]["type"] == "end" and events[-1]["reason"] == "stopped"


def test_run_from_a_wav_file_keeps_the_files_timeline(tmp_path, say):
    from facilitator.cli import main
    import wave

    a = say("Sam, I would like to have a dialogue. Is now a good time?", "en-us")
    b = say("Yes, I'm ready now.", "en-us+f3")
    audio = np.zeros(16000 * 45, np.int16)
    audio[16000 * 20:16000 * 20 + len(a)] = a
    audio[16000 * 34:16000 * 34 + len(b)] = b
    path = tmp_path / "session.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1), wav.setsampwidth(2), wav.setframerate(16000)
        wav.writeframes(audio.tobytes())
    record = tmp_path / "r.jsonl"
    code = main(["run", "--input", str(path), "--fast", "--record", str(record),
                 "--name", "A=Alex", "--name", "B=Sam"])
    assert code == 0
    events = [json.loads(line) for line in record.read_text().splitlines()]
    turns = [e for e in events if e["type"] == "turn"]
    assert [t["speaker"] for t in turns] == ["A", "B"]
    assert abs(turns[0]["start"] - 20.0) < 0.4 and abs(turns[0]["end"] - (20 + len(a) / 16000)) < 0.4
    assert abs(turns[1]["start"] - 34.0) < 0.4
    assert similarity(turns[0]["text"], "Sam, I would like to have a dialogue. Is now a good time?") > 0.8
    assert [e["name"] for e in events if e["type"] == "step"] == ["appointment", "availability", "send"]
    assert events[-1]["type"] == "end"


class LosingSource:
    """A microphone that is unplugged after the first turn."""

    name = "flaky microphone"
    sample_rate = 16000
    frame_samples = 480

    def __init__(self, room):
        self.room = room

    def listen(self, event):
        self.room.listen(event)

    def frames(self):
        for frame in self.room.frames():
            if self.room.spoken and frame.t > self.room.spoken[0][2] + 3.0:
                raise DeviceLost("the microphone 'flaky microphone' stopped sending sound")
            yield frame

    def close(self):
        self.room.close()


def test_device_lost_mid_session_keeps_the_record(tmp_path, transcriber):
    room = SimulatedRoom(lines_of(("A", "I would like to have a dialogue. Is now a good time?"),
                                  ("B", "Yes, I'm ready now.")))
    reason, events = run_room(tmp_path, LosingSource(room), transcriber)
    assert reason == "device_lost"
    assert [e["type"] for e in events if e["type"] == "turn"] == ["turn"]
    assert any(e["type"] == "error" and "stopped sending sound" in e["message"] for e in events)
    assert events[-1] == {**events[-1], "type": "end", "reason": "device_lost"}


def test_long_silence_and_noise_get_a_reminder_not_a_crash(tmp_path, transcriber):
    config = Config()
    config.turns.silence_reprompt_s = 8.0
    room = SimulatedRoom([], noise_level=0.003, give_up_s=25.0)
    room.next_start = None
    reason, events = run_room(tmp_path, room, transcriber, config=config)
    assert reason == "input_end"
    assert any(e["type"] == "prompt" and e["key"] == "silence_reminder" for e in events)
    assert not [e for e in events if e["type"] == "turn"]


def test_missing_model_names_the_fix(tmp_path, capsys):
    from facilitator.cli import main

    config = tmp_path / "config.toml"
    config.write_text('[transcription]\nmodel = "whisper-large-nowhere"\n')
    code = main(["--config", str(config), "run", "--input", str(tmp_path / "x.wav")])
    assert code == 2 and "not found" in capsys.readouterr().err
    wav = tmp_path / "x.wav"
    import wave

    with wave.open(str(wav), "wb") as handle:
        handle.setnchannels(1), handle.setsampwidth(2), handle.setframerate(16000)
        handle.writeframes(np.zeros(16000, np.int16).tobytes())
    code = main(["--config", str(config), "run", "--input", str(wav), "--fast",
                 "--record", str(tmp_path / "r.jsonl")])
    err = capsys.readouterr().err
    assert code == 2 and "whisper-large-nowhere" in err and "models" in err


def test_no_microphone_offers_the_demo(capsys):
    from facilitator.audio_in import has_input_device
    from facilitator.cli import main

    if has_input_device():
        pytest.skip("this machine has a microphone")
    assert main(["run"]) == 2
    assert "facilitator demo" in capsys.readouterr().err
