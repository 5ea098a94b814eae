"""data/judging/speak_cases.py: cases spoken, heard by the shipped tiny.en pipeline, written
once (a second run adds nothing); the helpers the training and benchmark scripts use."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "data" / "judging"))
import speak_cases  # noqa: E402

# one espeak-ng voice in a dry room, one Piper voice in noise (chosen from the texts themselves)
SENDER = "I miss you when you travel for work."
REPLY = "You feel cared for when I cook dinner."


def _words(text: str) -> set[str]:
    return set(re.sub(r"[^a-z' ]", " ", text.lower()).split())


def test_voice_and_room_come_from_the_text():
    assert speak_cases.choose_voice(SENDER) == speak_cases.choose_voice(SENDER)
    assert speak_cases.choose_voice(SENDER).startswith("en")
    assert speak_cases.choose_voice(REPLY).startswith("piper:")
    assert speak_cases.choose_room(SENDER) == "clean"
    assert speak_cases.choose_room(REPLY).startswith("noise:")


def test_as_transcribed():
    case = {"kind": "mirror", "context": ["a b"], "reply": "c d", "label": "mirror"}
    heard = speak_cases.as_transcribed(case, {"a b": "A, B.", "c d": "C D"})
    assert heard == {**case, "context": ["A, B."], "reply": "C D"}
    assert speak_cases.as_transcribed(case, {"a b": "A, B."}) is None
    assert case["context"] == ["a b"]


@pytest.mark.e2e
def test_speaks_transcribes_and_resumes(tmp_path):
    from facilitator.speech_piper import piper_missing

    if piper_missing():
        pytest.skip(f"Piper is missing: {piper_missing()}")
    cases = tmp_path / "two_cases.txt"
    cases.write_text(f"S: {SENDER}\nM: {REPLY}\n")
    out = tmp_path / "transcripts.jsonl"
    assert speak_cases.main(["--out", str(out), str(cases), "--jobs", "1"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["text"] for r in rows] == sorted([SENDER, REPLY])
    for row in rows:
        assert set(row) == {"text", "voice", "room", "transcript"}
        said, heard = _words(row["text"]), _words(row["transcript"])
        assert len(said & heard) >= 0.7 * len(said), row
    assert speak_cases.load_transcripts(out) == {r["text"]: r["transcript"] for r in rows}

    before = out.read_text()
    assert speak_cases.main(["--out", str(out), str(cases), "--jobs", "1"]) == 0
    assert out.read_text() == before


def _append_many(path: str, prefix: str, count: int) -> None:
    for i in range(count):
        speak_cases.append_row(Path(path), {"text": f"{prefix} {i:03d}", "transcript": "x"})


def test_two_runs_on_one_file_keep_each_others_lines(tmp_path):
    """A run's final rewrite (sort_file) does not drop the lines another run appends meanwhile."""
    import multiprocessing

    out = tmp_path / "transcripts.jsonl"
    out.write_text("")
    context = multiprocessing.get_context("fork")
    writers = [context.Process(target=_append_many, args=(str(out), name, 150)) for name in ("a", "b")]
    for w in writers:
        w.start()
    while any(w.is_alive() for w in writers):
        speak_cases.sort_file(out)
    for w in writers:
        w.join()
        assert w.exitcode == 0
    assert speak_cases.sort_file(out) == 300
    texts = [json.loads(line)["text"] for line in out.read_text().splitlines()]
    assert texts == sorted(texts) and len(set(texts)) == 300
