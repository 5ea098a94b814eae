"""End-to-end: synthetic partners (espeak-ng) fed as an audio stream through the real pipeline."""

from __future__ import annotations

import difflib
import json
import re

import numpy as np
import pytest

from facilitator.app import RunOptions, build_session, run_session
from facilitator.audio_in import DeviceLost
from facilitator.config import Config
from facilitator.sim.room import Line, SimulatedRoom, load_demo_lines, render_lines
from facilitator.events import as_dict

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("shared_prompt_renders")]


def words(text):
    return re.findall(r"[a-z']+", text.lower())


def similarity(a, b):
    return difflib.SequenceMatcher(None, words(a), words(b)).ratio()


def turn_order_config():
    """For tests about other rooms: no voice enrollment, turns go by whose turn it is."""
    return Config().with_changes(speakers={"method": "turn_order"})


def run_room(tmp_path, room, transcriber, names=None, config=None):
    config = config or turn_order_config()
    options = RunOptions(realtime=False, speak_aloud=False, record_path=tmp_path / "record.jsonl",
                         input_name="test", display=False, names=names or {"A": "Alex", "B": "Sam"})
    session, writer = build_session(config, room, options, transcriber=transcriber)
    if hasattr(room, "listen"):
        session.bus.subscribe(room.listen)
        session.bus.subscribe_signals(room.listen)
    reason = run_session(session, writer)
    events = [json.loads(line) for line in (tmp_path / "record.jsonl").read_text().splitlines()]
    return reason, events


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory, transcriber):
    names, lines = load_demo_lines()
    render_lines(lines)
    played = []                              # each line as the room played it (PlayedLine)
    room = SimulatedRoom(lines, echo=True, on_played=played.append)   # its microphone hears the facilitator too
    reason, events = run_room(tmp_path_factory.mktemp("demo"), room, transcriber, names, Config())
    return reason, events, lines, played


def dialogue_lines(lines, played):
    """(line, (speaker, start, end) as played) for each dialogue line the room played, in
    order. A line said again (its step asked again after a verdict that did not pass) is
    there each time: pairing the lines with the plays one to one would shift every later
    turn onto the wrong line."""
    return [(lines[p.index], (p.speaker, p.start, p.end)) for p in played
            if not (p.step or "").startswith("enroll_")]


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
    _, events, lines, plays = demo_run
    turns = [e for e in events if e["type"] == "turn"]
    played = dialogue_lines(lines, plays)
    assert len(turns) == len(played)
    scores = [similarity(turn["text"], line.text.replace("|", " ")) for turn, (line, _) in zip(turns, played)]
    assert np.mean(scores) > 0.85, list(zip(scores, [t["text"] for t in turns]))
    assert min(scores) > 0.5
    # times are on the input's timeline: each turn sits where the room played its line
    for turn, (_, (speaker, start, end)) in zip(turns, played):
        assert turn["speaker"] == speaker
        assert abs(turn["start"] - start) < 0.5 and abs(turn["end"] - end) < 0.5


def test_voices_are_learnt_hands_free_and_every_turn_is_attributed_by_voice(demo_run):
    _, events, lines, _ = demo_run
    enrollments = [e for e in events if e["type"] == "enrollment"]
    assert [(e["speaker"], e["ok"]) for e in enrollments] == [("A", True), ("B", True)]
    assert all(e["voiced_s"] >= 6 for e in enrollments)
    asks = [e["text"] for e in events if e["type"] == "prompt" and e["key"].startswith("enroll_ask")]
    assert "Alex" in asks[0] and "Sam" in asks[1]
    speakers = next(e for e in events if e["type"] == "speakers")
    assert speakers["method"] == "voice" and speakers["enrolled"] == ["A", "B"]
    # the enrollment comes before the dialogue, and its speech is not a dialogue turn
    first_step = next(i for i, e in enumerate(events) if e["type"] == "step")
    assert events.index(speakers) < first_step
    turns = [e for e in events if e["type"] == "turn"]
    assert all(t["speaker_method"] == "voice" and t["confidence"] > 0.5 for t in turns)


def test_the_wrong_partner_answering_gets_a_gentle_reminder(demo_run):
    _, events, _, _ = demo_run
    wrong = [e for e in events if e["type"] == "interruption"]
    assert [(e["kind"], e["speaker"], e["step"]) for e in wrong] == [("wrong_speaker", "B", "mirror")]
    at = events.index(wrong[0])
    turn = events[at - 1]
    assert turn["type"] == "turn" and turn["speaker"] == "B" and turn["role"] == "receiver"
    assert (wrong[0]["start"], wrong[0]["end"]) == (turn["start"], turn["end"])
    reminder = next(e for e in events[at:] if e["type"] == "prompt")
    assert reminder["key"] == "wrong_speaker" and reminder["text"].startswith("Sam, it is Alex's turn")
    # the dialogue waited: no verdict on Sam's words, and Alex's mirror came next
    after = [e for e in events[at:] if e["type"] in ("turn", "verdict")][:2]
    assert after[0]["type"] == "turn" and after[0]["speaker"] == "A" and after[0]["step"] == "mirror"
    assert after[1]["type"] == "verdict" and after[1]["kind"] == "mirror"


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


ENROLL_A = ("My day was busy. I went for a run in the morning, then I worked on the garden "
            "and cooked a big pot of soup for the week.")
ENROLL_B = ("My day was good but long. I had meetings all morning, I walked the dog at lunch, "
            "and in the afternoon I finished the report.")


def write_wav(path, audio):
    import wave

    audio = np.asarray(audio, np.int16)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1 if audio.ndim == 1 else audio.shape[1])
        wav.setsampwidth(2), wav.setframerate(16000)
        wav.writeframes(audio.tobytes())
    return path


def test_run_from_a_wav_file_with_recorded_enrollments(tmp_path, say):
    """`facilitator run --input X.wav --enroll A=a.wav --enroll B=b.wav`: voices from the
    recordings (any rate), turns attributed from the voice on the file's own timeline."""
    from facilitator.audio_in import resample
    from facilitator.cli import main

    a = say("Sam, I would like to have a dialogue. Is now a good time?", "en-us")
    b = say("Yes, I'm ready now.", "en-us+f3")
    audio = np.zeros(16000 * 45, np.int16)
    audio[16000 * 20:16000 * 20 + len(a)] = a
    audio[16000 * 34:16000 * 34 + len(b)] = b
    path = write_wav(tmp_path / "session.wav", audio)
    enroll_a = write_wav(tmp_path / "a.wav", say(ENROLL_A, "en-us"))
    # B's enrollment recorded at 44.1 kHz: any rate is taken
    enroll_b = tmp_path / "b.wav"
    import wave
    with wave.open(str(enroll_b), "wb") as wav:
        wav.setnchannels(1), wav.setsampwidth(2), wav.setframerate(44100)
        wav.writeframes(np.asarray(resample(say(ENROLL_B, "en-us+f3"), 16000, 44100),
                                   np.int16).tobytes())
    record = tmp_path / "r.jsonl"
    code = main(["run", "--input", str(path), "--fast", "--record", str(record),
                 "--name", "A=Alex", "--name", "B=Sam",
                 "--enroll", f"A={enroll_a}", "--enroll", f"B={enroll_b}"])
    assert code == 0
    events = [json.loads(line) for line in record.read_text().splitlines()]
    assert not [e for e in events if e["type"] == "enrollment"]   # nothing asked: recordings given
    turns = [e for e in events if e["type"] == "turn"]
    assert [t["speaker"] for t in turns] == ["A", "B"]
    assert all(t["speaker_method"] == "voice" and t["confidence"] > 0.6 for t in turns)
    assert abs(turns[0]["start"] - 20.0) < 0.4 and abs(turns[0]["end"] - (20 + len(a) / 16000)) < 0.4
    assert abs(turns[1]["start"] - 34.0) < 0.4
    assert similarity(turns[0]["text"], "Sam, I would like to have a dialogue. Is now a good time?") > 0.8
    assert [e["name"] for e in events if e["type"] == "step"] == ["appointment", "availability", "send"]
    assert events[-1]["type"] == "end"


def test_unusable_enrollment_recordings_are_named(tmp_path, say, capsys):
    from facilitator.cli import main

    short = write_wav(tmp_path / "short.wav", say("Hello there.", "en-us"))
    good = write_wav(tmp_path / "b.wav", say(ENROLL_B, "en-us+f3"))
    session = write_wav(tmp_path / "s.wav", np.zeros(16000, np.int16))
    code = main(["run", "--input", str(session), "--fast", "--record", str(tmp_path / "r.jsonl"),
                 "--enroll", f"A={short}", "--enroll", f"B={good}"])
    err = capsys.readouterr().err
    assert code == 2 and "too little clean speech" in err and "8-10 s" in err
    code = main(["run", "--input", str(session), "--fast", "--enroll", f"A={good}"])
    assert code == 2 and "both partners" in capsys.readouterr().err
    assert not (tmp_path / "r.jsonl").exists()


def test_enrollment_asks_again_when_too_short_or_silent(tmp_path, transcriber):
    config = Config().with_changes(turns={"silence_reprompt_s": 6.0})
    lines = [Line("A", "Hello, I am Alex.", "enroll_A"),
             Line("A", ENROLL_A, "enroll_A"),
             Line("B", ENROLL_B, "enroll_B"),
             Line("A", "Sam, I would like to have a dialogue. Is now a good time?", "appointment")]
    render_lines(lines)
    room = SimulatedRoom(lines, give_up_s=40.0)
    original = room.listen

    def quiet_once(event, state={"skipped": False}):
        # Sam does not answer the first time they are asked
        event = as_dict(event)
        if event.get("type") == "_listening" and event.get("step") == "enroll_B" and not state["skipped"]:
            state["skipped"] = True
            return
        original(event)

    room.listen = quiet_once
    reason, events = run_room(tmp_path, room, transcriber, config=config)
    tries = [(e["speaker"], e["attempt"], e["ok"], e["problem"]) for e in events if e["type"] == "enrollment"]
    assert tries == [("A", 1, False, "too short"), ("A", 2, True, None),
                     ("B", 1, False, "silent"), ("B", 2, True, None)]
    keys = [e["key"] for e in events if e["type"] == "prompt"]
    assert keys[:5] == ["enroll_ask_first", "enroll_again_too_short", "enroll_ask",
                        "enroll_again_silent", "enroll_done"]
    turns = [e for e in events if e["type"] == "turn"]
    assert [(t["speaker"], t["step"]) for t in turns] == [("A", "appointment")]


def test_talking_over_a_turn_is_noticed_and_handed_back(tmp_path, transcriber):
    """Sam talks over Alex's message for about 1.5 s: an interruption event and a reminder;
    a short "mm-hm" elsewhere is a backchannel and passes."""
    lines = [Line("A", ENROLL_A, "enroll_A"), Line("B", ENROLL_B, "enroll_B"),
             Line("A", "Sam, I would like to have a dialogue. Is now a good time?", "appointment"),
             Line("B", "Yes, I'm ready now.", "availability"),
             Line("A", "I felt hurt on Sunday when the plans changed without a word. | "
                       "I like to know ahead of time, because then I can plan my day.", "send",
                  interrupt={"speaker": "B", "text": "But I did tell you about that on Saturday.",
                             "at": 4.0})]
    render_lines(lines)
    reason, events = run_room(tmp_path, SimulatedRoom(lines), transcriber, config=Config())
    turns = [e for e in events if e["type"] == "turn"]
    assert [(t["speaker"], t["step"]) for t in turns] == [("A", "appointment"), ("B", "availability"),
                                                          ("A", "send")]
    found = [e for e in events if e["type"] == "interruption"]
    assert [(e["speaker"], e["kind"]) for e in found] == [("B", "talk_over")]
    send = turns[-1]
    assert send["start"] < found[0]["start"] < found[0]["end"] <= send["end"] + 0.1
    assert found[0]["end"] - found[0]["start"] >= 1.0
    reminder = next(e for e in events[events.index(found[0]):] if e["type"] == "prompt")
    assert reminder["key"] == "interruption" and reminder["text"].startswith("Sam, please let Alex finish")


def test_one_voice_straight_after_the_other_is_split(tmp_path, transcriber, say):
    """Alex asks and Sam answers with no pause between: two turns, each with its own words."""
    ask = say("Sam, I would like to have a dialogue. Is now a good time for you to talk?", "en-us")
    answer = say("Yes, now is a good time for me, I am ready to listen.", "en-us+f3")
    lines = [Line("A", ENROLL_A, "enroll_A"), Line("B", ENROLL_B, "enroll_B"),
             Line("A", "", "appointment")]
    render_lines(lines[:2])
    lines[2].audio = np.concatenate([ask, answer])
    reason, events = run_room(tmp_path, SimulatedRoom(lines), transcriber, config=Config())
    turns = [e for e in events if e["type"] == "turn"]
    assert [(t["speaker"], t["step"]) for t in turns[:2]] == [("A", "appointment"), ("B", "availability")]
    assert similarity(turns[0]["text"], "Sam, I would like to have a dialogue. Is now a good time for you to talk?") > 0.7
    assert similarity(turns[1]["text"], "Yes, now is a good time for me, I am ready to listen.") > 0.7
    assert abs(turns[0]["end"] - turns[1]["start"]) < 0.05
    loud = np.flatnonzero(np.abs(ask.astype(np.int32)) > 500)
    ask_speech_end = turns[0]["start"] - loud[0] / 16000 + (loud[-1] + 1) / 16000   # espeak's padding left out
    assert abs(turns[1]["start"] - ask_speech_end) < 0.25
    assert not [e for e in events if e["type"] == "interruption"]


def test_two_microphones_attribute_by_channel_level(tmp_path, say):
    """Stereo input, one partner per microphone, with crosstalk and a 10 dB gain mismatch."""
    from facilitator.cli import main

    def stereo(mono, own, crosstalk_db=-6.0, gains=(0.0, -10.0)):
        x = mono.astype(np.float32)
        left = x if own == 0 else x * 10 ** (crosstalk_db / 20)
        right = x if own == 1 else x * 10 ** (crosstalk_db / 20)
        out = np.stack([left * 10 ** (gains[0] / 20), right * 10 ** (gains[1] / 20)], axis=1)
        return np.clip(out, -32768, 32767).astype(np.int16)

    a = say("Sam, I would like to have a dialogue. Is now a good time?", "en-us")
    b = say("Yes, I'm ready now.", "en-us+f2")
    audio = np.zeros((16000 * 45, 2), np.int16)
    audio[16000 * 20:16000 * 20 + len(a)] = stereo(a, 0)   # after the welcome prompt
    audio[16000 * 34:16000 * 34 + len(b)] = stereo(b, 1)
    session = write_wav(tmp_path / "two.wav", audio)
    enroll_a = write_wav(tmp_path / "a.wav", stereo(say(ENROLL_A, "en-us"), 0))
    enroll_b = write_wav(tmp_path / "b.wav", stereo(say(ENROLL_B, "en-us+f2"), 1))
    config = tmp_path / "config.toml"
    config.write_text("[audio]\nchannels = 2\n")
    record = tmp_path / "r.jsonl"
    code = main(["--config", str(config), "run", "--input", str(session), "--fast",
                 "--record", str(record), "--enroll", f"A={enroll_a}", "--enroll", f"B={enroll_b}"])
    assert code == 0
    turns = [json.loads(line) for line in record.read_text().splitlines()]
    turns = [e for e in turns if e["type"] == "turn"]
    assert [(t["speaker"], t["speaker_method"]) for t in turns] == [("A", "channels"), ("B", "channels")]


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
    config = turn_order_config().with_changes(turns={"silence_reprompt_s": 8.0})
    room = SimulatedRoom([], noise_level=0.003, give_up_s=40.0)
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


def test_enroll_command_hands_free_from_a_recording_then_a_session_reuses_the_voices(tmp_path, say):
    """`facilitator enroll --input conv.wav --save DIR`: the enrollment conversation alone;
    with save_profiles on, the next session greets the couple and skips the enrollment."""
    from facilitator.cli import main

    conversation = np.zeros(16000 * 60, np.int16)
    a, b = say(ENROLL_A, "en-us"), say(ENROLL_B, "en-us+f3")
    conversation[16000 * 12:16000 * 12 + len(a)] = a       # after "Alex, please tell me ..."
    conversation[16000 * 36:16000 * 36 + len(b)] = b       # after "Now Sam, please ..."
    voices = tmp_path / "voices"
    code = main(["enroll", "--input", str(write_wav(tmp_path / "conv.wav", conversation)),
                 "--fast", "--silent", "--save", str(voices), "--name-a", "Alex", "--name-b", "Sam"])
    assert code == 0
    assert sorted(p.name for p in voices.glob("*.json")) == ["A.json", "B.json"]
    assert json.loads((voices / "A.json").read_text())["name"] == "Alex"

    config = tmp_path / "config.toml"
    config.write_text(f'[speakers]\nsave_profiles = true\nprofiles_dir = "{voices}"\n')
    ask = say("Sam, I would like to have a dialogue. Is now a good time?", "en-us")
    session = np.zeros(16000 * 40, np.int16)
    session[16000 * 22:16000 * 22 + len(ask)] = ask
    record = tmp_path / "r.jsonl"
    code = main(["--config", str(config), "run", "--input", str(write_wav(tmp_path / "s.wav", session)),
                 "--fast", "--silent", "--record", str(record), "--name", "A=Alex", "--name", "B=Sam"])
    assert code == 0
    events = [json.loads(line) for line in record.read_text().splitlines()]
    assert not [e for e in events if e["type"] == "enrollment"]
    assert [e["key"] for e in events if e["type"] == "prompt"][0] == "enroll_welcome_back"
    turns = [e for e in events if e["type"] == "turn"]
    assert [(t["speaker"], t["speaker_method"]) for t in turns] == [("A", "voice")]


def test_the_coachs_controls_are_honoured(tmp_path, transcriber):
    """Marking the partial mirror right moves the dialogue on; a passed mirror marked wrong
    is asked again; "stop" ends the session. (The coach view sends these same controls.)"""
    from facilitator.events import Control

    names, lines = load_demo_lines()
    lines = [line for line in lines if not (line.step or "").startswith("enroll_")]
    render_lines(lines)
    room = SimulatedRoom(lines)
    options = RunOptions(realtime=False, speak_aloud=False, record_path=tmp_path / "r.jsonl",
                         input_name="test", display=False, names=names)
    session, writer = build_session(turn_order_config(), room, options, transcriber=transcriber)
    room.attach(session.bus)
    summaries = []

    def coach(event):
        event = as_dict(event)
        if event.get("type") == "verdict" and event["kind"] == "mirror" and not event["passed"]:
            session.controls.put(Control("override", "coach", {"kind": "mirror", "label": "mirror"}))
        if event.get("type") == "step" and event["name"] == "summary":
            summaries.append(event)
            if len(summaries) == 2:
                session.controls.put(Control("stop", "coach"))
        if event.get("type") == "verdict" and event["kind"] == "summary" and event["passed"]:
            session.controls.put(Control("override", "coach", {"kind": "summary", "label": "partial"}))

    session.bus.subscribe(coach)
    assert run_session(session, writer) == "stopped"
    events = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    overrides = [e for e in events if e["type"] == "override"]
    assert [(o["kind"], o["label"], o["source"]) for o in overrides] == [
        ("mirror", "mirror", "coach"), ("summary", "partial", "coach")]
    after_first = events[events.index(overrides[0]):]
    assert [e["key"] for e in after_first if e["type"] == "prompt"][0] == "coach_accepted"
    assert next(e for e in after_first if e["type"] == "step")["name"] == "confirm"
    assert len([e for e in events if e["type"] == "verdict" and e["kind"] == "mirror"]) == 1
    after_second = events[events.index(overrides[1]):]
    assert [e["key"] for e in after_second if e["type"] == "prompt"][:2] == ["coach_retry", "ask_summary"]
    assert next(e for e in after_second if e["type"] == "step")["name"] == "summary"
    assert events[-1]["reason"] == "stopped"


def test_the_report_of_the_demo_counts_the_retried_mirror_as_one_mirror_of_two_tries(demo_run):
    from facilitator.review.analysis import analyse

    _, events, _, _ = demo_run
    session = analyse(events)
    mirrors = session.of_kind("mirror")
    assert [(m.round, m.tries, m.attempts[0].label) for m in mirrors] == [(1, 2, "partial"), (2, 1, "mirror")]
    assert len(session.interruptions) == 1
