"""`facilitator judge` and `facilitator enroll` meet bad input with a message, not a traceback:
missing or broken batch files and lines, empty text, unreadable enrollment recordings; the
enroll command speaks `run`'s language (--name A=NAME, --enroll A=FILE); saved voices are
private (folder 0700, files 0600)."""

from __future__ import annotations

import argparse
import json
import os
import stat
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from facilitator.cli import build_parser, main
from facilitator.config import SpeakersConfig
from facilitator.judging import Verdict

ROOT = Path(__file__).resolve().parents[1]


def subparser(name: str) -> argparse.ArgumentParser:
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return commands.choices[name]


def write_wav(path: Path, audio: np.ndarray, rate: int = 16000) -> Path:
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1), handle.setsampwidth(2), handle.setframerate(rate)
        handle.writeframes(np.asarray(audio, np.int16).tobytes())
    return path


class FakeJudge:
    """Records what it was asked; every reply is a mirror."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str], str]] = []

    def judge(self, kind: str, context: list[str], reply: str) -> Verdict:
        self.calls.append((kind, list(context), reply))
        return Verdict(kind, "mirror", 1.0)


@pytest.fixture
def fake_judge(monkeypatch) -> FakeJudge:
    fake = FakeJudge()
    monkeypatch.setattr("facilitator.judging.cli.default_judge", lambda: fake)
    return fake


# ------------------------------------------------------------------------------ judge


def test_judge_batch_with_no_such_file_says_so(tmp_path, capsys, fake_judge):
    missing = tmp_path / "missing.jsonl"
    assert main(["judge", "--batch", str(missing)]) == 2
    err = capsys.readouterr().err
    assert f"no such file: {missing}" in err and "Traceback" not in err
    assert main(["judge", "--batch", str(tmp_path)]) == 2          # a folder
    assert "is a folder" in capsys.readouterr().err
    assert fake_judge.calls == []


def test_judge_batch_names_each_bad_line_skips_it_and_exits_1(tmp_path, capsys, fake_judge):
    lines = [
        "not json at all",
        json.dumps({"id": "m1", "reply": "so you felt alone"}),                     # no sender
        json.dumps({"id": "s1", "kind": "summary", "reply": "so all of that"}),     # no context
        json.dumps({"id": "x1", "kind": "pep_talk", "context": ["hi"], "reply": "hi"}),
        "",
        json.dumps({"id": "ok1", "sender": "i felt alone", "reply": "you felt alone"}),
        json.dumps({"id": "m2", "sender": "i felt alone", "reply": "   "}),       # empty reply
        json.dumps(["a", "list"]),
        json.dumps({"id": "ok2", "kind": "sender_statement", "reply": "you always do this"}),
        json.dumps({"id": "e1", "kind": "empathy", "context": "i was scared", "reply": "scared"}),
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n")
    assert main(["judge", "--batch", str(path)]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    for expected in ("line 1: not JSON", 'line 2: no "sender"', 'line 3: no "context"',
                     "line 4: unknown kind 'pep_talk'", 'line 7: "reply" is empty',
                     "line 8: not a JSON object", "6 of 9 lines could not be judged"):
        assert expected in captured.err, (expected, captured.err)
    out = [json.loads(line) for line in captured.out.splitlines()]
    assert len(out) == 9                        # one line out per line in (blank lines aside)
    assert [o["id"] for o in out if "error" in o] == [None, "m1", "s1", "x1", "m2", None]
    assert [o["id"] for o in out if "label" in o] == ["ok1", "ok2", "e1"]
    assert fake_judge.calls == [("mirror", ["i felt alone"], "you felt alone"),
                                ("sender_statement", [], "you always do this"),
                                ("empathy", ["i was scared"], "scared")]


def test_judge_batch_of_good_lines_exits_0(tmp_path, capsys, fake_judge):
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"id": 1, "sender": "i miss you", "reply": "you miss me"}) + "\n")
    assert main(["judge", "--batch", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == 1


@pytest.mark.parametrize("sender,reply,message", [
    ("", "", "--sender is empty: give the words the Sender said"),
    ("i felt alone", "", "--reply is empty: give the words the Receiver said"),
    ("i felt alone", "  \t ", "--reply is empty: give the words the Receiver said"),
    (" ", "you felt alone", "--sender is empty"),
])
def test_judge_refuses_empty_text(sender, reply, message, capsys, fake_judge):
    assert main(["judge", "--sender", sender, "--reply", reply]) == 2
    assert message in capsys.readouterr().err
    assert fake_judge.calls == []


def test_judge_help_is_for_users_and_every_option_is_explained(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["judge", "--help"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    assert "../shared" not in text and "facilitator/" not in text and ".py" not in text
    assert '"sender"' in text and '"context"' in text and '"label"' in text
    for action in subparser("judge")._actions:
        assert action.help, f"judge {action.option_strings} has no help"


def test_judge_errors_through_the_installed_command(tmp_path):
    """The real entry point: exit codes and no traceback (the judge model is never loaded)."""
    command = ROOT / ".venv" / "bin" / "facilitator"
    if not command.exists():
        pytest.skip("no .venv/bin/facilitator (run scripts/setup.sh)")
    for args, code, words in (
            (["judge", "--batch", str(tmp_path / "missing.jsonl")], 2, "no such file"),
            (["judge", "--sender", "i felt alone", "--reply", ""], 2, "--reply is empty")):
        done = subprocess.run([str(command), *args], capture_output=True, text=True, timeout=120)
        assert done.returncode == code and words in done.stderr, done.stderr
        assert "Traceback" not in done.stderr


# ---------------------------------------------------------- unreadable enrollment recordings


def _broken(kind: str, folder: Path) -> Path:
    path = folder / f"{kind}.wav"
    if kind == "missing":
        return path
    if kind == "folder":
        path.mkdir()
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "garbage":
        path.write_bytes(b"this is not a recording\n" * 40)
    elif kind == "truncated":
        path.write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunkjunk")
    elif kind == "silent_header":
        write_wav(path, np.zeros(0, np.int16))
    return path


BROKEN = [("missing", "no such file"), ("folder", "is a folder"), ("empty", "the file is empty"),
          ("garbage", "is not an audio file (WAV)"), ("truncated", "WAV file that cannot be read"),
          ("silent_header", "the recording is empty")]


@pytest.fixture
def partner_b(tmp_path) -> Path:
    rng = np.random.default_rng(0)
    return write_wav(tmp_path / "b.wav", rng.normal(0, 3000, 16000 * 2))


@pytest.mark.parametrize("kind,reason", BROKEN)
def test_prepare_names_an_unreadable_enrollment_recording(kind, reason, tmp_path, partner_b):
    from facilitator import prompts
    from facilitator.speakers.live import SpeakerSetupError, prepare

    bad = _broken(kind, tmp_path)
    with pytest.raises(SpeakerSetupError) as caught:
        prepare(SpeakersConfig(method="gmm"), {"A": "Alex", "B": "Sam"},
                prompts.common()["speakers"], enroll_files={"A": bad, "B": partner_b})
    message = str(caught.value)
    assert f"cannot read the enrollment recording {bad}: " in message
    assert reason in message and "--enroll A=" in message      # what is wrong, and the fix


def test_prepare_names_the_recording_with_too_little_speech(tmp_path, partner_b):
    from facilitator import prompts
    from facilitator.speakers.live import SpeakerSetupError, prepare

    quiet = write_wav(tmp_path / "quiet.wav", np.zeros(16000, np.int16))
    with pytest.raises(SpeakerSetupError, match="quiet.wav.*too little clean speech"):
        prepare(SpeakersConfig(method="gmm"), {"A": "Alex", "B": "Sam"},
                prompts.common()["speakers"], enroll_files={"A": quiet, "B": partner_b})


def test_run_with_a_missing_enrollment_recording_is_a_clean_refusal(tmp_path, capsys, partner_b):
    room = write_wav(tmp_path / "room.wav", np.zeros(16000, np.int16))
    code = main(["run", "--input", str(room), "--fast", "--silent",
                 "--record", str(tmp_path / "r.jsonl"),
                 "--enroll", f"A={tmp_path / 'missing.wav'}", "--enroll", f"B={partner_b}"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert f"cannot read the enrollment recording {tmp_path / 'missing.wav'}: no such file" in err


@pytest.mark.parametrize("kind,reason", [BROKEN[0], BROKEN[2], BROKEN[3]])
def test_enroll_with_an_unreadable_recording_is_a_clean_refusal(kind, reason, tmp_path, capsys,
                                                                partner_b):
    bad = _broken(kind, tmp_path)
    code = main(["enroll", "--method", "gmm", "--enroll", f"A={bad}", "--enroll", f"B={partner_b}",
                 "--save", str(tmp_path / "voices")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert f"cannot read the enrollment recording {bad}: " in err and reason in err
    assert not (tmp_path / "voices").exists()


# ------------------------------------------------------------ enroll speaks run's language


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> dict[str, Path]:
    from facilitator.sim.voices import speak_to_array

    folder = tmp_path_factory.mktemp("speech")
    texts = {"A": ("My day was busy. I went for a run in the morning, then I worked on the "
                   "garden and cooked a big pot of soup for the week. Now I am glad to sit."),
             "B": ("My day was good but long. I had meetings all morning, I walked the dog at "
                   "lunch, and in the afternoon I finished the report I had been writing.")}
    voices = {"A": "en-us", "B": "en-us+f3"}
    return {s: write_wav(folder / f"{s}.wav", speak_to_array(text, voices[s]))
            for s, text in texts.items()}


def test_enroll_takes_name_and_enroll_like_run_and_the_old_spellings(tmp_path, capsys, speech):
    voices = tmp_path / "voices"
    assert main(["enroll", "--method", "gmm", "--enroll", f"A={speech['A']}",
                 "--enroll", f"B={speech['B']}", "--name", "A=Alex", "--name", "b=Sam",
                 "--save", str(voices)]) == 0, capsys.readouterr().err
    names = {s: json.loads((voices / f"{s}.json").read_text())["name"] for s in "AB"}
    assert names == {"A": "Alex", "B": "Sam"}

    old = tmp_path / "old"
    assert main(["enroll", "--method", "gmm", "--from", f"A={speech['A']}", "--from",
                 f"B={speech['B']}", "--name-a", "Kim", "--name-b", "Lee",
                 "--save", str(old)]) == 0, capsys.readouterr().err
    assert json.loads((old / "B.json").read_text())["name"] == "Lee"

    capsys.readouterr()
    assert main(["enroll", "--name", "C=Kim"]) == 2
    assert "--name takes A=NAME or B=NAME" in capsys.readouterr().err
    assert main(["enroll", "--enroll", f"A={speech['A']}"]) == 2
    assert "--enroll A=FILE --enroll B=FILE" in capsys.readouterr().err


def test_enroll_help_shows_the_new_spellings_only_and_explains_every_option(capsys):
    with pytest.raises(SystemExit):
        main(["enroll", "--help"])
    text = capsys.readouterr().out
    assert "--enroll A=FILE" in text and "--name A=NAME" in text
    assert "--from" not in text and "--name-a" not in text and "--name-b" not in text
    for action in subparser("enroll")._actions:
        assert action.help, f"enroll {action.option_strings} has no help"


class FakeInput:
    closed = False

    def close(self) -> None:
        self.closed = True


def hands_free(monkeypatch, build, reason: str = "enrolled") -> FakeInput:
    """`facilitator enroll` without recordings, on a fake input: `build` stands in for
    `app.build_session` (the enroll API's own code runs), the session "ends" with `reason`."""
    source = FakeInput()
    monkeypatch.setattr("facilitator.commands_run.open_input",
                        lambda config, recording, fast: (source, "microphone", True, None))
    monkeypatch.setattr("facilitator.app.build_session", build)
    monkeypatch.setattr("facilitator.app.run_session", lambda session, writer: reason)
    return source


def test_hands_free_enroll_uses_the_names_and_a_private_folder(tmp_path, monkeypatch, capsys):
    from facilitator.speakers.live import SpeakerSetupError

    seen = {}

    def build(config, source, options, transcriber=None):
        folder = options.record_path.parent
        seen.update(names=options.names, record=options.record_path, only=options.enroll_only,
                    mode=stat.S_IMODE(folder.stat().st_mode),
                    saved=(config.speakers.save_profiles, config.speakers.profiles_dir))
        raise SpeakerSetupError("no voice model")

    source = hands_free(monkeypatch, build)
    old = os.umask(0o022)
    try:
        code = main(["enroll", "--name", "A=Alex", "--name", "B=Sam",
                     "--save", str(tmp_path / "voices")])
    finally:
        os.umask(old)
    err = capsys.readouterr().err
    assert code == 2 and "Cannot start: no voice model" in err and "voices were not learnt" in err
    assert source.closed
    assert seen == {"names": {"A": "Alex", "B": "Sam"}, "mode": 0o700, "only": True,
                    "record": tmp_path / "voices" / "last-enrollment.jsonl",
                    "saved": (True, str(tmp_path / "voices"))}


def test_hands_free_enroll_reports_the_voices_the_enrollment_learnt(tmp_path, monkeypatch, capsys):
    from facilitator.speakers.enrollment import VoiceProfile
    from facilitator.speakers.live import VoiceEnrollment

    enrollment = VoiceEnrollment({"A": "Alex", "B": "Sam"}, SpeakersConfig(), None, {})

    class Session:
        conversation = enrollment

    class Writer:
        path = tmp_path / "voices" / "last-enrollment.jsonl"

    def build(config, source, options, transcriber=None):
        return Session(), Writer()

    hands_free(monkeypatch, build)
    enrollment.profiles = {"A": VoiceProfile("A", "Alex", "gmm", {}, 8.0, 30.0)}
    assert main(["enroll", "--save", str(tmp_path / "voices")]) == 1   # one voice: not learnt
    assert "voices were not learnt" in capsys.readouterr().err
    enrollment.profiles["B"] = VoiceProfile("B", "Sam", "gmm", {}, 9.0, 25.0)
    assert main(["enroll", "--save", str(tmp_path / "voices")]) == 0
    out = capsys.readouterr().out
    assert "A (Alex): 8.0 s of speech" in out and "B (Sam): 9.0 s" in out
    assert f"Voice profiles saved in {tmp_path / 'voices'}" in out


def test_enroll_learns_the_voices_again_even_when_they_are_saved(tmp_path):
    """Saved profiles make a session greet the couple back instead of asking; `enroll` is
    there to replace them, so it always holds the enrollment."""
    from facilitator.app import RunOptions, _speaker_setup
    from facilitator.config import Config
    from facilitator.speakers.enrollment import VoiceProfile, save_profiles

    folder = tmp_path / "voices"
    save_profiles({s: VoiceProfile(s, name, "gmm", {"mfcc": np.zeros((2, 2), np.float32)})
                   for s, name in (("A", "Alex"), ("B", "Sam"))}, folder)
    config = Config().with_changes(speakers={"method": "gmm", "save_profiles": True,
                                             "profiles_dir": str(folder)})
    setup = _speaker_setup(config, {"A": "Alex", "B": "Sam"}, RunOptions(enroll_only=True), None)
    assert setup.enrollment is not None and not setup.greeting


# --------------------------------------------------------------------- private voices


def test_saved_voice_profiles_are_private_whatever_the_umask(tmp_path):
    from facilitator.speakers.enrollment import VoiceProfile, load_profiles, save_profiles

    data = {"means": np.arange(6, dtype=np.float32)}
    profiles = {s: VoiceProfile(s, name, "gmm", data, 8.0, 30.0)
                for s, name in (("A", "Alex"), ("B", "Sam"))}
    folder = tmp_path / "data" / "voices"
    folder.parent.mkdir()
    old = os.umask(0o022)
    try:
        written = save_profiles(profiles, folder)
        (folder / "A.json").chmod(0o644)            # a profile left 0644 by an older version
        written = save_profiles(profiles, folder)
    finally:
        os.umask(old)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert sorted(p.name for p in written) == ["A.json", "A.npz", "B.json", "B.npz"]
    assert sorted(p.name for p in folder.iterdir()) == ["A.json", "A.npz", "B.json", "B.npz"]
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    back = load_profiles(folder)
    assert back["B"].name == "Sam" and np.array_equal(back["A"].data["means"], np.arange(6))
