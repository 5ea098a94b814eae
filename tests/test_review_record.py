"""read_record: a record that ends mid-line, or has blank lines, still reads back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from facilitator.review.record import list_records, read_record, sessions_dir
from facilitator.review.sample import sample_events, write_sample


def test_reads_every_event_in_order(tmp_path: Path) -> None:
    path = write_sample(tmp_path / "s.jsonl")
    events = read_record(path)
    assert events == sample_events()
    assert events[0]["type"] == "session" and events[-1]["type"] == "end"


def test_torn_last_line_is_dropped(tmp_path: Path) -> None:
    path = write_sample(tmp_path / "s.jsonl", torn=True)
    assert path.read_text().rstrip().endswith('"te')
    assert read_record(path) == sample_events()


def test_blank_lines_crlf_and_junk_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_bytes(
        b'{"type":"session","t":0.0}\r\n\n   \n'
        b'not json at all\n'
        b'[1, 2]\n'
        b'{"no_type": true}\n'
        b'{"type":"turn","t":1.5,"text":"caf\xc3\xa9"}\n'
        b'{"type":"end","t":2.0,"reason":"comp'
    )
    events = read_record(path)
    assert [e["type"] for e in events] == ["session", "turn"]
    assert events[1]["text"] == "café"


def test_empty_and_missing_records(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert read_record(empty) == []
    with pytest.raises(FileNotFoundError):
        read_record(tmp_path / "nope.jsonl")


def test_a_record_being_appended_reads_what_is_flushed(tmp_path: Path) -> None:
    path = tmp_path / "live.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        handle.write(json.dumps({"type": "session", "t": 0.0}) + "\n")
        handle.flush()
        handle.write('{"type": "step", "t": 1.0, "na')
        handle.flush()
        assert [e["type"] for e in read_record(path)] == ["session"]


def test_sessions_dir_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACILITATOR_DATA_DIR", str(tmp_path))
    assert sessions_dir(None) == tmp_path / "sessions"
    (tmp_path / "sessions").mkdir()
    assert sessions_dir(tmp_path) == tmp_path / "sessions"      # a data dir given
    write_sample(tmp_path / "sessions" / "b.jsonl")
    write_sample(tmp_path / "sessions" / "a.jsonl")
    assert [p.name for p in list_records(tmp_path / "sessions")] == ["a.jsonl", "b.jsonl"]
    assert list_records(tmp_path / "missing") == []
