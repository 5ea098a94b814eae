"""`facilitator simulate` without models: the session file's checks (each mistake one message
and exit 2), the room's acoustics (noise at the SNR asked, a reverb tail, the same every run),
the played file, lines passed over and said again. The whole sessions are in
tests/test_simulate_e2e.py."""

from __future__ import annotations

import json
import shutil
import stat
import wave
from pathlib import Path

import numpy as np
import pytest

from facilitator.cli import main
from facilitator.core import SAMPLE_RATE
from facilitator.sim.acoustics import RoomAcoustics
from facilitator.sim.mixing import speech_rms
from facilitator.sim.played import PlayedLog, played_path
from facilitator.sim.room import Line, SimulatedRoom, render_lines, resume_lines
from facilitator.sim.session_file import SessionFileError, load_session

ROOT = Path(__file__).resolve().parents[1]
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")


def speechlike(seconds: float, seed: int = 0, level: float = 6000.0) -> np.ndarray:
    """Noise bursts shaped like syllables (4 a second), int16."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SAMPLE_RATE)
    envelope = np.clip(np.sin(np.arange(n) * 2 * np.pi * 4 / SAMPLE_RATE), 0, None)
    return np.clip(rng.standard_normal(n) * envelope * level, -32768, 32767).astype(np.int16)


def write_wav(path: Path, audio: np.ndarray, rate: int = SAMPLE_RATE) -> Path:
    audio = np.asarray(audio, np.int16)
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1 if audio.ndim == 1 else audio.shape[1])
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(audio.tobytes())
    return path


def play(room: SimulatedRoom, steps: list[str | None], start: float = 0.5) -> np.ndarray:
    """Run the room as the facilitator would: listening at `start`, then again after each line
    (asking for the next of `steps`), to the end of its input. All it played, as one array."""
    asked = iter(steps)
    room.listen({"type": "_listening", "t": 0.0, "after": start, "step": next(asked, None)})
    heard, played, line_end = [], 0, None
    for frame in room.frames():
        heard.append(frame.samples)
        if len(room.spoken) > played:
            played, line_end = len(room.spoken), room.spoken[-1][2]
        if line_end is not None and frame.end >= line_end:
            line_end = None
            step = next(asked, "done")
            if step != "done":     # else the room ends the input after its silence at the end
                room.listen({"type": "_listening", "t": frame.end, "after": frame.end, "step": step})
    return np.concatenate(heard)


# -- the room ------------------------------------------------------------------------------

def test_room_noise_is_at_the_snr_asked_below_the_speech():
    speech = speechlike(3.0)
    for snr in (10.0, 25.0):
        line = Line("A", "", audio=speech)
        acoustics = RoomAcoustics.for_lines([speech], noise_snr_db=snr, seed=3)
        heard = play(SimulatedRoom([line], acoustics=acoustics), [None], start=1.0).astype(np.float64)
        between = heard[int(5.0 * SAMPLE_RATE):int(12.0 * SAMPLE_RATE)]   # after the line: noise only
        measured = 20 * np.log10(speech_rms(speech) / np.sqrt(np.mean(between ** 2)))
        assert abs(measured - snr) < 1.0, (snr, measured)
        before = heard[:int(0.9 * SAMPLE_RATE)]                             # and before it
        assert abs(20 * np.log10(speech_rms(speech) / np.sqrt(np.mean(before ** 2))) - snr) < 2.0
        during = heard[int(1.6 * SAMPLE_RATE):int(1.6 * SAMPLE_RATE) + speech.size]
        assert speech_rms(during) == pytest.approx(speech_rms(speech), rel=0.15)   # the line is heard


def test_reverb_leaves_a_tail_keeps_the_level_and_is_the_same_every_run():
    burst = speechlike(0.25, level=10000.0)

    def heard(acoustics=None):
        room = SimulatedRoom([Line("A", "", audio=burst)], acoustics=acoustics)
        audio = play(room, [None], start=0.3)
        return audio, int(round(room.spoken[0][1] * SAMPLE_RATE))

    dry, start = heard()
    end = start + burst.size
    np.testing.assert_array_equal(dry[start:end], burst)
    assert not np.any(dry[end:])                             # a dry room: silence after the line

    def wet(seed):
        return heard(RoomAcoustics.for_lines([burst], reverb_s=0.5, seed=seed))[0]

    first, again, other = wet(1), wet(1), wet(2)
    tail = first[end:end + int(0.2 * SAMPLE_RATE)].astype(np.float64)
    assert np.sqrt(np.mean(tail ** 2)) > 0.01 * speech_rms(burst)       # the room rings on
    later = first[end + int(0.6 * SAMPLE_RATE):end + int(0.8 * SAMPLE_RATE)].astype(np.float64)
    assert np.sqrt(np.mean(later ** 2)) < np.sqrt(np.mean(tail ** 2)) / 10   # ... and dies away
    level = speech_rms(first[start:end + 8000].astype(np.float64))
    assert abs(20 * np.log10(level / speech_rms(burst))) < 3.0          # about as loud as dry
    assert np.array_equal(first, again) and not np.array_equal(first, other)


def test_played_file_notes_each_line_on_the_record_timeline_and_passes_over_other_steps(tmp_path):
    lines = [Line("A", "", "appointment", audio=speechlike(1.0), index=0),
             Line("B", "", "summary", audio=speechlike(1.0), index=1),     # not the dialogue's step
             Line("B", "", "availability", audio=speechlike(0.5), index=2)]
    log = PlayedLog(tmp_path / "r.jsonl")
    room = SimulatedRoom(lines, on_played=log, time_offset=100.0)
    play(room, ["appointment", "availability"])
    log.close()
    assert log.path == tmp_path / "r.played.jsonl"
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600
    played = [json.loads(row) for row in log.path.read_text().splitlines()]
    assert [p["index"] for p in played] == [0, 2]
    for entry, (speaker, start, end) in zip(played, room.spoken):
        assert entry["speaker"] == speaker
        assert entry["start"] == pytest.approx(100.0 + start, abs=1e-3)
        assert entry["end"] == pytest.approx(100.0 + end, abs=1e-3)
    assert played[0]["start"] == pytest.approx(100.5 + 0.6, abs=0.04)   # after the reaction delay
    assert played[1]["end"] - played[1]["start"] == pytest.approx(0.5, abs=1e-3)
    again = PlayedLog(tmp_path / "r.jsonl", append=True)     # a resumed session appends ...
    again.close()
    assert len(log.path.read_text().splitlines()) == 2
    PlayedLog(tmp_path / "r.jsonl").close()                 # ... a new one starts afresh
    assert log.path.read_text() == ""


def test_a_step_asked_again_hears_its_last_line_again_then_the_room_moves_on():
    lines = [Line("B", "", "mirror", audio=speechlike(0.5), index=0),
             Line("A", "", "confirm", audio=speechlike(0.5), index=1)]
    room = SimulatedRoom(lines)
    play(room, ["mirror", "mirror", "mirror", "mirror"])
    assert [speaker for speaker, _, _ in room.spoken] == ["B", "B", "B", "A"]


def test_an_interrupt_given_as_a_recording_is_mixed_in_and_noted(tmp_path):
    own, other = speechlike(2.0, seed=1), speechlike(0.8, seed=2)
    line = Line("A", "", "send", recording=own, index=4,
                interrupt={"speaker": "B", "text": "", "recording": other, "at": 1.5})
    render_lines([line])
    assert line.audio.size == int(1.5 * SAMPLE_RATE) + other.size
    np.testing.assert_array_equal(line.audio[:SAMPLE_RATE], own[:SAMPLE_RATE])
    log = PlayedLog(tmp_path / "r.jsonl")
    play(SimulatedRoom([line], on_played=log), ["send"])
    log.close()
    entry = json.loads(log.path.read_text())
    assert entry["index"] == 4 and entry["interrupt"]["speaker"] == "B"
    assert entry["interrupt"]["start"] == pytest.approx(entry["start"] + 1.5, abs=1e-3)
    assert entry["interrupt"]["end"] == pytest.approx(entry["end"], abs=1e-3)


def test_resumed_lines_keep_their_place_in_the_file():
    lines = [Line("A", "", step, index=i) for i, step in
             enumerate(["enroll_A", "enroll_B", "appointment", "availability", "send", "mirror"])]
    events = [{"type": "step", "name": "send", "round": 1}]
    assert [line.index for line in resume_lines(lines, events, voices_kept=False)] == [0, 1, 4, 5]
    assert [line.index for line in resume_lines(lines, events, voices_kept=True)] == [4, 5]


def test_played_path_is_beside_the_record():
    assert played_path("/x/20261201-1200-ab12.jsonl") == Path("/x/20261201-1200-ab12.played.jsonl")
    assert played_path("/x/r.log") == Path("/x/r.log.played.jsonl")


# -- the session file ----------------------------------------------------------------------

def test_recorded_lines_of_any_rate_and_channels_are_read_relative_to_the_file(tmp_path):
    mono = speechlike(1.0)
    stereo = np.stack([mono, mono // 2], axis=1)
    rate = 44100
    from facilitator.audio_files import resample

    (tmp_path / "audio").mkdir()
    write_wav(tmp_path / "audio" / "b.wav", resample(stereo, SAMPLE_RATE, rate), rate)
    write_wav(tmp_path / "a.wav", speechlike(9.0, seed=4))
    write_wav(tmp_path / "b_sample.wav", speechlike(9.0, seed=5), 22050)
    (tmp_path / "s.toml").write_text(
        '[enroll]\nA = "a.wav"\nB = "b_sample.wav"\n'
        '[[lines]]\nspeaker = "A"\nstep = "enroll_A"\ntext = "My day."\n'
        '[[lines]]\nspeaker = "b"\nstep = "availability"\naudio = "audio/b.wav"\n'
        'interrupt = { speaker = "A", audio = "a.wav", at = 0.5 }\n')
    session = load_session(tmp_path / "s.toml", steps={"availability"})
    assert session.enroll == {"A": tmp_path / "a.wav", "B": tmp_path / "b_sample.wav"}
    assert [line.index for line in session.playable()] == [1]     # the enrollment lines are skipped
    line = session.lines[1]
    assert line.speaker == "B" and line.recording.dtype == np.int16 and line.recording.ndim == 1
    assert abs(line.recording.size - SAMPLE_RATE) < 100              # 1 s at 16 kHz
    assert line.interrupt["recording"].size == pytest.approx(9 * SAMPLE_RATE, abs=100)


def test_the_demo_and_the_example_are_good_session_files():
    from facilitator.dialogue import Script

    steps = set(Script.load("intentional_dialogue").steps)
    demo = load_session(ROOT / "prompts" / "demo_session.toml", steps)
    assert demo.names == {"A": "Alex", "B": "Sam"} and len(demo.lines) == 26 and demo.enroll is None
    example = load_session(ROOT / "examples" / "simulate.toml", steps)
    assert example.names == {"A": "Daniel", "B": "Priya"}
    assert example.room.noise_snr_db is not None and example.room.reverb_s is not None
    assert [line.step for line in example.lines][:2] == ["enroll_A", "enroll_B"]


BAD = [
    ("bad_toml", 'lines = [\n', ["not valid TOML", "line"]),
    ("no_lines", '[names]\nA = "Dan"\n', ["has no [[lines]]"]),
    ("unknown_section", '[rooms]\n[[lines]]\nspeaker = "A"\ntext = "Hi"\n', ["unknown section 'rooms'"]),
    ("unknown_speaker", '[[lines]]\nspeaker = "C"\ntext = "Hi"\n',
     ["lines[0] speaker (the [[lines]] at line 1)", "unknown speaker 'C'", '"A" or "B"']),
    ("no_speaker", '[[lines]]\ntext = "Hi"\n', ["lines[0]", "has no speaker"]),
    ("neither", '[[lines]]\nspeaker = "A"\ntext = "Hi"\n[[lines]]\nspeaker = "B"\nstep = "send"\n',
     ["lines[1] (the [[lines]] at line 4)", "neither text nor audio", "exactly one"]),
    ("both", '[[lines]]\nspeaker = "A"\ntext = "Hi"\naudio = "a.wav"\n', ["both text and audio"]),
    ("missing_audio", '[[lines]]\nspeaker = "A"\naudio = "gone.wav"\n',
     ["lines[0] audio", "audio file not found", "relative to the session file"]),
    ("not_audio", '[[lines]]\nspeaker = "A"\naudio = "notes.wav"\n', ["lines[0] audio", "not an audio file"]),
    ("unknown_key", '[[lines]]\nspeaker = "A"\ntxt = "Hi"\n', ["lines[0]", "unknown key 'txt'"]),
    ("wrong_type", '[room]\nreaction_s = "soon"\n[[lines]]\nspeaker = "A"\ntext = "Hi"\n',
     ["[room] reaction_s", "must be a number"]),
    ("bad_reverb", '[room]\nreverb = "yes"\n[[lines]]\nspeaker = "A"\ntext = "Hi"\n',
     ["[room] reverb", "true, false or a reverb time"]),
    ("unknown_step", '[[lines]]\nspeaker = "A"\nstep = "mirorr"\ntext = "Hi"\n',
     ["lines[0] step", "unknown step 'mirorr'", "mirror"]),
    ("half_enroll", '[enroll]\nA = "a.wav"\n[[lines]]\nspeaker = "A"\ntext = "Hi"\n',
     ["[enroll] needs both"]),
    ("self_interrupt", '[[lines]]\nspeaker = "A"\ntext = "Hi"\ninterrupt = { speaker = "A", text = "x" }\n',
     ["lines[0] interrupt speaker", 'speaker = "B"']),
    ("unknown_voice", '[voices]\nA = "xx-nosuchvoice"\n[[lines]]\nspeaker = "A"\ntext = "Hi"\n',
     ["[voices] A = 'xx-nosuchvoice' cannot speak", "espeak-ng --voices"]),
]


@needs_espeak
@pytest.mark.parametrize("name, text, expected", BAD, ids=[case[0] for case in BAD])
def test_each_mistake_in_a_session_file_is_one_message_and_exit_2(tmp_path, capsys, name, text, expected):
    (tmp_path / "notes.wav").write_text("not a recording\n")
    write_wav(tmp_path / "a.wav", speechlike(1.0))
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    code = main(["simulate", str(path), "--fast", "--silent", "--record", str(tmp_path / "r.jsonl")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and str(path) in err and err.count("\n") == 1, err
    for part in expected:
        assert part in err, err
    assert not (tmp_path / "r.jsonl").exists()


def test_a_missing_session_file_is_named(tmp_path, capsys):
    assert main(["simulate", str(tmp_path / "nowhere.toml"), "--fast"]) == 2
    err = capsys.readouterr().err
    assert "session file not found" in err and "nowhere.toml" in err


def test_load_session_raises_one_error_type(tmp_path):
    (tmp_path / "s.toml").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(SessionFileError, match="not a text file"):
        load_session(tmp_path / "s.toml")


def test_the_played_file_is_not_taken_for_a_record(tmp_path):
    from facilitator.review.record import list_records

    (tmp_path / "20261201-120000-ab12.jsonl").write_text('{"type": "session", "t": 0}\n')
    (tmp_path / "20261201-120000-ab12.played.jsonl").write_text('{"index": 0}\n')
    assert [p.name for p in list_records(tmp_path)] == ["20261201-120000-ab12.jsonl"]
