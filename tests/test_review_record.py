"""read_record: a record that ends mid-line, or has blank or damaged lines, still reads back,
and says what it skipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from facilitator.review.record import list_records, no_session_problem, read_record, sessions_dir, skipped_note
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


def test_damaged_lines_in_the_middle_are_counted_and_named(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    lines = [json.dumps(e) for e in sample_events()]
    good = len(lines)
    lines[3] = lines[3][:20]                 # a line cut short in the middle (a disk error)
    lines[7] = "\x00\x00\x00"
    lines.insert(10, '{"no_type": true}')    # JSON, but not an event
    path.write_text("\n".join(lines) + "\n")
    events = read_record(path)
    assert len(events) == good - 2
    assert events.damaged == [4, 8, 11] and events.torn == [] and events.skipped == 3
    note = skipped_note(events, path)
    assert note == (f"Note: {path}: skipped 3 damaged lines (lines 4, 8, 11) that are not "
                    "session events.")


def test_a_torn_last_line_is_counted_and_mentioned_gently(tmp_path: Path) -> None:
    path = write_sample(tmp_path / "s.jsonl", torn=True)
    events = read_record(path)
    assert events == sample_events()
    assert events.damaged == [] and events.torn == [len(sample_events()) + 1] and events.skipped == 1
    note = skipped_note(events, "s.jsonl")
    assert "damaged" not in note and "cut short when the program stopped mid-write" in note
    assert skipped_note(read_record(write_sample(tmp_path / "ok.jsonl")), "ok.jsonl") is None


def test_a_torn_line_before_a_resume_is_not_damage(tmp_path: Path) -> None:
    """`facilitator resume` ends a torn last line and appends after it: still a torn line."""
    path = tmp_path / "s.jsonl"
    path.write_text('{"type":"session","t":0}\n{"type":"step","t":1,"na\n'
                    '{"type":"resume","t":1}\n{"type":"end","t":2,"reason":"complete"}\n')
    events = read_record(path)
    assert [e["type"] for e in events] == ["session", "resume", "end"]
    assert events.torn == [2] and events.damaged == []


def test_records_that_hold_no_session_say_why(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    assert "holds no session: it is empty" in no_session_problem(read_record(empty), empty)
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_bytes(b"\x89PNG\r\n\x1a\nnot json\n")
    assert "holds no session: it is not a session record" in no_session_problem(read_record(garbage), garbage)
    headless = tmp_path / "headless.jsonl"
    headless.write_text('{"type":"turn","t":1}\n')
    assert "no 'session' line" in no_session_problem(read_record(headless), headless)
    assert no_session_problem(read_record(write_sample(tmp_path / "s.jsonl")), "s") is None


def test_no_own_copy_of_the_data_dir_rule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from facilitator.review import record

    assert not hasattr(record, "default_data_dir")
    monkeypatch.delenv("FACILITATOR_DATA_DIR", raising=False)
    assert sessions_dir(None, tmp_path / "data") == tmp_path / "data" / "sessions"
