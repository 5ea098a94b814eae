"""Bad input, table-driven: every case ends with a message naming the problem and the fix,
an exit code of the program's own (never an abort or a signal) and no traceback, and any
record it wrote holds only valid JSON lines.

Each case runs the real `facilitator` command in a fresh process with its own data folder,
so an abort at exit (a native thread left running) shows as exit 134/139 and fails.
"""

from __future__ import annotations

import functools
import json
import os
import resource
import signal
import subprocess
import sys
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from facilitator.config import TurnsConfig

FACILITATOR = str(Path(sys.executable).parent / "facilitator")
TURN_ORDER = '[speakers]\nmethod = "turn_order"\n'
# For the sessions that run (`heavy`): the prompts at Piper's fastest (about 2.4 times the
# default rate). Each session renders all its prompts (~250 s of speech at the default rate)
# beside the loop; how fast they are spoken is not what these cases are about.
FAST_PROMPTS = "[speech]\nrate = 400\n"


def write_wav(path: Path, samples: np.ndarray, rate: int = 16000, width: int = 2) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return path


def float_wav_with_nans(path: Path, seconds: float = 6.0) -> Path:
    """A 32-bit float WAV whose samples are clipped far past full scale, with NaN and inf."""
    rate = 16000
    t = np.arange(int(seconds * rate)) / rate
    samples = (40.0 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    samples[::97] = np.nan
    samples[::131] = np.inf
    data = samples.tobytes()
    header = b"RIFF" + (36 + len(data)).to_bytes(4, "little") + b"WAVEfmt " + \
        (16).to_bytes(4, "little") + (3).to_bytes(2, "little") + (1).to_bytes(2, "little") + \
        rate.to_bytes(4, "little") + (rate * 4).to_bytes(4, "little") + (4).to_bytes(2, "little") + \
        (32).to_bytes(2, "little") + b"data" + len(data).to_bytes(4, "little")
    path.write_bytes(header + data)
    return path


@functools.lru_cache(maxsize=None)
def speech(text: str, voice: str = "en-us") -> np.ndarray:
    from facilitator.sim.voices import speak_to_array

    return speak_to_array(text, voice)


ENROLL_TEXT = {
    "A": "My day was busy. I went for a run in the morning, then I worked on the garden and "
         "cooked a big pot of soup for the week. Now I am glad to sit down with you.",
    "B": "My day was good but long. I had meetings all morning, I walked the dog at lunch, "
         "and in the afternoon I finally finished the report I had been writing for weeks.",
}


@dataclass
class Case:
    name: str
    argv: list[str]
    expect: list[str]                     # each must appear in the output (case-insensitive)
    codes: tuple[int, ...] = (2,)
    files: Callable[[Path], None] | None = None
    config: str | None = None             # written to config.toml in the working folder
    heavy: bool = False                   # loads the models and runs a session (e2e)
    limit_file_size: int | None = None    # RLIMIT_FSIZE for the child (a full disk)
    env: dict[str, str] = field(default_factory=dict)
    events: tuple[dict, ...] = ()         # each matched by an event of the record it wrote


def _files(**made: Callable[[Path], object]) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        for name, maker in made.items():
            maker(folder / name.replace("__", "."))
    return make


def _enrollments(folder: Path) -> None:
    write_wav(folder / "a.wav", speech(ENROLL_TEXT["A"], "en-us"))
    write_wav(folder / "b.wav", speech(ENROLL_TEXT["B"], "en-us+f3"))


# Long input, longer than the longest turn ([turns] max_turn_s) and than the silence before
# a reminder: a monologue with no pause long enough to end a turn is cut at max_turn_s, and
# the rest (after the prompt that follows; the first seconds are under the welcome) is a turn
# of its own. Longer input repeats the same.
MONOLOGUE_S = TurnsConfig().max_turn_s + 30.0


def _noise(folder: Path, seconds: float = MONOLOGUE_S) -> None:
    """Loud noise, longer than the longest turn and the silence before a reminder (whether
    it is heard as speech or as silence, the session must go on and end cleanly)."""
    rng = np.random.default_rng(3)
    write_wav(folder / "noise.wav", (rng.normal(0, 3000, int(seconds * 16000))).astype(np.int16))


def _monologue(folder: Path, seconds: float = MONOLOGUE_S) -> None:
    _enrollments(folder)
    sentences = ["I want to talk about our money and how we spend it every month.",
                 "When the bills come in I feel anxious and alone with them.",
                 "I would like us to sit down together on Sundays and look at them.",
                 "It matters to me because my parents always fought about money."]
    piece = np.concatenate([np.concatenate([speech(s), np.zeros(8000, np.int16)]) for s in sentences])
    samples = int(seconds * 16000)
    write_wav(folder / "monologue.wav", np.tile(piece, int(np.ceil(samples / piece.size)))[:samples])


def _both_at_once(folder: Path) -> None:
    _enrollments(folder)
    a = np.concatenate([speech("I keep talking about the holidays and your family and the plans "
                               "we never made together.", "en-us")] * 6)
    b = np.concatenate([speech("No, you are not listening to me at all, this is about the car and "
                               "the money we spent.", "en-us+f3")] * 6)
    n = min(a.size, b.size, 30 * 16000)
    mixed = np.clip(a[:n].astype(np.int32) + b[:n].astype(np.int32), -32768, 32767).astype(np.int16)
    write_wav(folder / "both.wav", np.concatenate([np.zeros(8000, np.int16), mixed]))


def _record(folder: Path, events: list[dict]) -> None:
    (folder / "old.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))


COMPLETE = [{"type": "session", "t": 0, "id": "x", "names": {"A": "Alex", "B": "Sam"},
             "script": "intentional_dialogue", "input": "microphone"},
            {"type": "step", "t": 1, "name": "send", "round": 1, "sender": "A", "receiver": "B",
             "messages": []},
            {"type": "end", "t": 2, "reason": "complete"}]

CASES = [
    Case("input file missing", ["run", "--input", "missing.wav", "--fast"], ["not found", "missing.wav"]),
    Case("input file empty", ["run", "--input", "empty.wav", "--fast"], ["empty"],
         files=_files(empty__wav=lambda p: p.write_bytes(b""))),
    Case("input not audio", ["run", "--input", "notes.txt", "--fast"], ["not an audio file"],
         files=_files(notes__txt=lambda p: p.write_text("hello, this is text"))),
    Case("input named .wav but text", ["run", "--input", "fake.wav", "--fast"], ["not an audio file"],
         files=_files(fake__wav=lambda p: p.write_text("RIFF? no"))),
    Case("input is a folder", ["run", "--input", ".", "--fast"], ["folder"]),
    Case("enrollment file missing", ["run", "--input", "a.wav", "--fast", "--enroll", "A=missing.wav",
                                     "--enroll", "B=b.wav"], ["missing.wav"], files=_enrollments),
    Case("enrollment not audio", ["run", "--input", "a.wav", "--fast", "--enroll", "A=notes.txt",
                                  "--enroll", "B=b.wav"], ["notes.txt"],
         files=lambda f: (_enrollments(f), (f / "notes.txt").write_text("text"))),
    Case("enrollment for one partner only", ["run", "--input", "a.wav", "--fast", "--enroll", "A=a.wav"],
         ["both partners"], files=_enrollments),
    Case("enrollment label wrong", ["run", "--input", "a.wav", "--enroll", "C=a.wav"], ["A=FILE"],
         files=_enrollments),
    Case("name without a label", ["demo", "--fast", "--name", "Alex"], ["A=NAME"]),
    Case("record exists already", ["run", "--input", "a.wav", "--fast", "--record", "old.jsonl"],
         ["already holds", "resume"], files=lambda f: (_enrollments(f), _record(f, COMPLETE))),
    Case("resume a completed session", ["resume", "--record", "old.jsonl"], ["ended", "start"],
         files=lambda f: _record(f, COMPLETE)),
    Case("resume with nothing to resume", ["resume"], ["no interrupted session"]),
    Case("resume a record that does not exist", ["resume", "--record", "nope.jsonl"], ["no session record"]),
    Case("config not TOML", ["run", "--input", "a.wav"], ["not valid toml", "line"],
         config="[session\npartner_a = 'x'\n", files=_enrollments),
    Case("config unknown key", ["run", "--input", "a.wav"], ["unknown key", "partner_c"],
         config="[session]\npartner_c = 'x'\n", files=_enrollments),
    Case("config wrong type", ["run", "--input", "a.wav"], ["[turns] pause_ms", "should be"],
         config="[turns]\npause_ms = 'long'\n", files=_enrollments),
    Case("config binary garbage", ["run", "--input", "a.wav"], ["config"],
         config="\x00\x01\x02 garbage \xff", files=_enrollments),
    Case("config unreadable", ["--config", "folder.toml", "run", "--input", "a.wav"], ["cannot read"],
         files=lambda f: (_enrollments(f), (f / "folder.toml").mkdir())),
    Case("config given after the command and missing", ["run", "--input", "a.wav", "--config", "no.toml"],
         ["not found", "no.toml"], files=_enrollments),
    Case("speech model missing", ["run", "--input", "a.wav", "--fast", "--silent"],
         ["model.bin", "config.json", "tokenizer.json", "vocabulary.txt", "default"],
         config='[transcription]\nmodel = "/nowhere/whisper"\n', files=_enrollments),
    Case("data folder cannot be written", ["run", "--input", "a.wav", "--fast", "--silent"],
         ["cannot write", "data"], config=TURN_ORDER, files=lambda f: (_enrollments(f),
                                                                       (f / "plain-file").write_text("x")),
         env={"FACILITATOR_DATA_DIR": "plain-file/data"}),
    Case("judge a missing batch", ["judge", "--batch", "missing.jsonl"], ["missing.jsonl"]),
    Case("judge empty words", ["judge", "--sender", "", "--reply", "  "], ["empty"]),
    Case("report a missing record", ["report", "nope.jsonl"], ["nope.jsonl"], codes=(1, 2)),
    Case("report an empty record", ["report", "empty.jsonl"], ["empty"],
         files=_files(empty__jsonl=lambda p: p.write_text(""))),
    Case("report a garbage record", ["report", "junk.jsonl"], ["no session"],
         files=_files(junk__jsonl=lambda p: p.write_bytes(b"\x00\x01garbage\nnot json\n"))),
    Case("history of an empty folder", ["history", "--dir", "nothing-here"], ["no session records"],
         codes=(0,)),
    # sessions that run: the models load and the loop must end on its own, cleanly
    Case("float WAV with NaN and clipping", ["run", "--input", "nan.wav", "--fast", "--silent"],
         ["session record"], codes=(0,), config=TURN_ORDER, heavy=True,
         files=_files(nan__wav=float_wav_with_nans)),
    Case("noise longer than the longest turn", ["run", "--input", "noise.wav", "--fast", "--silent",
                                                "--enroll", "A=a.wav", "--enroll", "B=b.wav"],
         ["session record"], codes=(0,), heavy=True, files=lambda f: (_enrollments(f), _noise(f))),
    Case("monologue longer than the longest turn", ["run", "--input", "monologue.wav", "--fast",
                                                    "--silent", "--enroll", "A=a.wav", "--enroll", "B=b.wav"],
         ["session record"], codes=(0,), heavy=True, files=_monologue,
         events=({"type": "turn", "end_reason": "max_length"},)),
    Case("both partners at once for 30 s", ["run", "--input", "both.wav", "--fast", "--silent",
                                            "--enroll", "A=a.wav", "--enroll", "B=b.wav"],
         ["session record"], codes=(0,), heavy=True, files=_both_at_once),
    Case("disk full while writing the record", ["run", "--input", "monologue.wav", "--fast", "--silent",
                                                "--enroll", "A=a.wav", "--enroll", "B=b.wav",
                                                "--record", "full/record.jsonl"],
         ["could not be written", "disk space"], codes=(1,), heavy=True, files=_monologue,
         limit_file_size=1200),   # the session starts in ~560 bytes; its first turn's line (~1.5 kB) is torn
]


def _limit(size: int | None):
    def apply() -> None:
        if size is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    return apply


@pytest.fixture(scope="module")
def voice_cache(tmp_path_factory) -> Path:
    """One cache folder (FACILITATOR_CACHE_DIR) for the sessions that run (`heavy`): the first
    splits Piper's voice into it, once, as on a user's machine after the first session; the
    others find it split (each case's own HOME would split it again, seconds each). The
    cases that stop before a session runs keep a cache of their own, split or not when they
    exit, as a first start would."""
    return tmp_path_factory.mktemp("cache")


def _prepare(case: Case, tmp_path: Path, cache: Path | None = None) -> tuple[Path, dict[str, str], set[Path]]:
    """The case's working folder (its files and config), its environment, the records given."""
    work = tmp_path / "work"
    work.mkdir()
    if case.files:
        case.files(work)
    config = (case.config or "") + FAST_PROMPTS if case.heavy else case.config
    if config is not None:
        (work / "config.toml").write_text(config, encoding="utf-8", errors="surrogateescape")
    env = {"FACILITATOR_DATA_DIR": str(tmp_path / "data"), "HOME": str(tmp_path),
           **({"FACILITATOR_CACHE_DIR": str(cache)} if case.heavy and cache else {}), **case.env}
    return work, env, set(work.rglob("*.jsonl"))


def _check(case: Case, code: int, output: str, work: Path, tmp_path: Path, given: set[Path]) -> None:
    assert code in case.codes, f"exit {code}:\n{output[-3000:]}"
    assert "Traceback" not in output and "terminate called" not in output, output[-3000:]
    for wanted in case.expect:
        assert wanted.lower() in output.lower(), f"{wanted!r} not in:\n{output[-3000:]}"
    written = []
    for record in set(work.rglob("*.jsonl")) - given | set((tmp_path / "data").rglob("*.jsonl")):
        for number, line in enumerate(record.read_text().splitlines(), 1):
            written.append(json.loads(line))
            assert isinstance(written[-1], dict), f"{record}:{number}: {line!r}"
    for wanted in case.events:
        assert any(wanted.items() <= event.items() for event in written), \
            f"no event with {wanted} in the record: {[e.get('type') for e in written]}"


@pytest.mark.e2e
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_in_a_fresh_process_exits_with_its_own_code(case: Case, tmp_path: Path,
                                                            voice_cache: Path) -> None:
    """In a process of its own, so that an abort at exit (134) or a signal shows."""
    work, env, given = _prepare(case, tmp_path, voice_cache)
    done = subprocess.run([FACILITATOR, *case.argv], cwd=work, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=900,
                          preexec_fn=_limit(case.limit_file_size), stdin=subprocess.DEVNULL)
    _check(case, done.returncode, done.stdout + done.stderr, work, tmp_path, given)


LIGHT = [c for c in CASES if not c.heavy and c.limit_file_size is None]


@pytest.mark.parametrize("case", LIGHT, ids=[c.name for c in LIGHT])
def test_bad_input_gets_a_message_not_a_crash(case: Case, tmp_path: Path, monkeypatch, capfd) -> None:
    """The same cases in this process (fast): message, exit code, no traceback, whole lines."""
    from facilitator.cli import main

    work, env, given = _prepare(case, tmp_path)
    monkeypatch.chdir(work)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    try:
        code = main(case.argv)
    except SystemExit as stop:                       # argparse refusing a value
        code = stop.code if isinstance(stop.code, int) else 2
    captured = capfd.readouterr()
    _check(case, code, captured.out + captured.err, work, tmp_path, given)
