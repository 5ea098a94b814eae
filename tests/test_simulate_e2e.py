"""`facilitator simulate` end to end, through the real pipeline (short scripts, --fast):
recordings of other rates and channels as lines and as the voice samples, an interrupt given
as a recording, a line for a step the dialogue is not in, room noise and reverb; espeak
lines answering the enrollment; a simulated session stopped, then resumed with its file."""

from __future__ import annotations

import json
import re
import wave

import numpy as np
import pytest

from facilitator.audio_files import resample
from facilitator.cli import main

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("shared_prompt_renders")]

ENROLL_A = ("My day was busy. I went for a run in the morning, then I worked on the garden "
            "and cooked a big pot of soup for the week.")
ENROLL_B = ("My day was good but long. I had meetings all morning, I walked the dog at lunch, "
            "and in the afternoon I finished the report.")


def write_wav(path, audio, rate=16000):
    audio = np.asarray(audio, np.int16)
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1 if audio.ndim == 1 else audio.shape[1])
        handle.setsampwidth(2), handle.setframerate(rate)
        handle.writeframes(audio.tobytes())
    return path


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def near_played(turns, played, within=0.5):
    """Each turn starts where a played line started (within `within` s), by the same speaker."""
    for turn in turns:
        match = min(played, key=lambda p: abs(p["start"] - turn["start"]))
        assert abs(match["start"] - turn["start"]) < within, (turn, match)
        assert turn["speaker"] == match["speaker"], (turn, match)


def test_recordings_enrollment_interrupt_and_a_noisy_reverberant_room(tmp_path, say, capsys):
    # the voice samples: A at 44.1 kHz stereo, B at 22.05 kHz
    a = say(ENROLL_A, "en-us")
    write_wav(tmp_path / "a.wav", resample(np.stack([a, a], axis=1), 16000, 44100), 44100)
    write_wav(tmp_path / "b.wav", resample(say(ENROLL_B, "en-us+f3"), 16000, 22050), 22050)
    # B's answer as a stereo 44.1 kHz recording, and B talking over A's message (a recording)
    ready = say("Yes, I'm ready now.", "en-us+f3")
    write_wav(tmp_path / "ready.wav", resample(np.stack([ready, ready // 2], axis=1), 16000, 44100), 44100)
    write_wav(tmp_path / "over.wav", say("But that is not true, I came home early on Friday.", "en-us+f3"))
    session = tmp_path / "session.toml"
    session.write_text('''
[names]
A = "Alex"
B = "Sam"
[room]
noise_snr_db = 30
reverb = 0.25
[enroll]
A = "a.wav"
B = "b.wav"
[[lines]]
step = "enroll_A"
speaker = "A"
text = "This line is skipped: the recordings are the voice samples."
[[lines]]
step = "appointment"
speaker = "A"
text = "Sam, I would like to have a dialogue. Is now a good time?"
[[lines]]
step = "summary"
speaker = "B"
text = "Let me see if I got it all."
[[lines]]
step = "availability"
speaker = "B"
audio = "ready.wav"
[[lines]]
step = "send"
speaker = "A"
text = "I felt lonely last week when you worked late every night. | I missed having dinner together."
interrupt = { speaker = "B", audio = "over.wav", at = 2.0 }
''')
    record = tmp_path / "out" / "r.jsonl"
    code = main(["simulate", str(session), "--fast", "--silent", "--record", str(record)])
    out = capsys.readouterr()
    assert code == 0, out.err[-2000:]
    events = read_jsonl(record)
    played = read_jsonl(tmp_path / "out" / "r.played.jsonl")
    assert events[0]["input"] == f"simulate:{session.resolve()}"
    assert not [e for e in events if e["type"] == "enrollment"]          # nothing asked
    # the enrollment line is skipped, the summary line (a step never reached here) passed over
    assert [p["index"] for p in played] == [1, 3, 4]
    assert played[2]["interrupt"]["speaker"] == "B"
    assert played[2]["interrupt"]["start"] == pytest.approx(played[2]["start"] + 2.0, abs=0.01)
    turns = [e for e in events if e["type"] == "turn"]
    assert [(t["speaker"], t["step"]) for t in turns[:3]] == [("A", "appointment"), ("B", "availability"),
                                                              ("A", "send")]
    assert all(t["speaker_method"] == "voice" for t in turns)
    near_played(turns[:2], played, within=1.0)   # noise or the echo's tail may open a turn early
    # the stereo 44.1 kHz answer heard whole: "Yes, I'm ready now." (tiny.en in this noisy,
    # reverberant room also writes "ready, how?", "read it out", "mad in hell")
    heard = re.findall(r"[a-z']+", turns[1]["text"].lower())
    assert heard[0] == "yes" and len(heard) >= 3, turns[1]["text"]
    # B was heard talking over A's message: split off, or noticed as an interruption
    over = [e for e in events if e["type"] == "interruption" and e["speaker"] == "B"]
    split = [t for t in turns if t["speaker"] == "B" and t["step"] == "send"]
    segments = [s for t in turns for s in t.get("speaker_segments", []) if s[2] == "B" and t["speaker"] == "A"]
    assert over or split or segments, turns
    assert f"Lines played: {tmp_path / 'out' / 'r.played.jsonl'}" in out.out


def test_enrollment_lines_then_stopped_then_resumed_with_the_same_file(tmp_path, capsys):
    session = tmp_path / "session.toml"
    session.write_text(f'''
[names]
A = "Alex"
B = "Sam"
[[lines]]
step = "enroll_A"
speaker = "A"
text = "{ENROLL_A}"
[[lines]]
step = "enroll_B"
speaker = "B"
text = "{ENROLL_B}"
[[lines]]
step = "appointment"
speaker = "A"
text = "Sam, I would like to have a dialogue. Is now a good time?"
[[lines]]
step = "availability"
speaker = "B"
text = "Yes, I'm ready now."
[[lines]]
speaker = "A"
text = "Stop the session."
[[lines]]
step = "send"
speaker = "A"
text = "I felt lonely last week when you worked late every night."
[[lines]]
step = "mirror"
speaker = "B"
text = "What I hear you saying is that you felt lonely last week when I worked late every night. Did I get that?"
''')
    record = tmp_path / "r.jsonl"
    played_file = tmp_path / "r.played.jsonl"
    assert main(["simulate", str(session), "--fast", "--silent", "--record", str(record)]) == 0
    first = read_jsonl(record)
    assert first[-1]["type"] == "end" and first[-1]["reason"] == "stopped"
    assert [e["speaker"] for e in first if e["type"] == "enrollment" and e["ok"]] == ["A", "B"]
    before = read_jsonl(played_file)
    assert [p["index"] for p in before] == [0, 1, 2, 3, 4]
    near_played([e for e in first if e["type"] == "turn" and e["step"] != "send"], before)
    capsys.readouterr()

    assert main(["resume", "--record", str(record), "--fast", "--silent"]) == 0
    assert "at step send" in capsys.readouterr().out
    events = read_jsonl(record)
    resumed = events[len(first):]
    assert resumed[0]["type"] == "resume" and resumed[0]["input"] == first[0]["input"]
    after = read_jsonl(played_file)[len(before):]
    # the voices were forgotten at the stop, so they are asked for again; then the message
    assert [p["index"] for p in after] == [0, 1, 5, 6]
    assert after[0]["start"] > first[-1]["t"]
    turns = [e for e in resumed if e["type"] == "turn"]
    assert [(t["speaker"], t["step"]) for t in turns] == [("A", "send"), ("B", "mirror")]
    near_played(turns, after)
    assert any(e["type"] == "verdict" and e["kind"] == "mirror" for e in resumed)
