"""Where data goes and how it is written: one data-dir rule, private files, exclusive records."""

from __future__ import annotations

import json
import os
import stat

import pytest

from facilitator import paths
from facilitator.record import RecordExists, RecordWriter, new_session_id


@pytest.fixture
def loose_umask():
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_environment_wins_over_the_config_which_wins_over_the_platform(monkeypatch, tmp_path):
    monkeypatch.delenv(paths.ENV_DATA_DIR, raising=False)
    assert paths.data_dir(str(tmp_path / "configured")) == tmp_path / "configured"
    assert "facilitator" in str(paths.data_dir(""))
    monkeypatch.setenv(paths.ENV_DATA_DIR, str(tmp_path / "env"))
    assert paths.data_dir(str(tmp_path / "configured")) == tmp_path / "env"
    assert paths.sessions_dir("x") == tmp_path / "env" / "sessions"
    assert paths.profiles_dir("", "x") == tmp_path / "env" / "voices"
    assert paths.profiles_dir(str(tmp_path / "mine"), "x") == tmp_path / "mine"


def test_records_are_private_whatever_the_umask(loose_umask, tmp_path):
    record = tmp_path / "data" / "sessions" / "r.jsonl"
    writer = RecordWriter(record)
    writer({"type": "session", "t": 0})
    writer.close()
    assert mode(record) == 0o600
    assert mode(record.parent) == 0o700 and mode(record.parent.parent) == 0o700


def test_private_files_are_replaced_atomically(loose_umask, tmp_path):
    target = tmp_path / "out" / "report.html"
    paths.write_private(target, "first")
    paths.write_private(target, "second")
    assert target.read_text() == "second" and mode(target) == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]   # no temporary left


def test_a_new_record_never_appends_to_an_old_one(tmp_path):
    record = tmp_path / "r.jsonl"
    RecordWriter(record).close()
    with pytest.raises(RecordExists, match="resume"):
        RecordWriter(record)
    RecordWriter(record, append=True).close()                              # resume may


def test_session_ids_started_in_the_same_second_differ():
    ids = {new_session_id() for _ in range(200)}
    assert len(ids) > 190
    assert all(len(i.split("-")) == 3 for i in ids)


def test_a_record_that_cannot_be_written_keeps_every_line_whole(tmp_path):
    import resource
    import signal

    record = tmp_path / "r.jsonl"
    writer = RecordWriter(record, sync=False)
    writer({"type": "session", "t": 0})
    old_limit = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    size = record.stat().st_size
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + 40, old_limit[1]))
    try:
        from facilitator.record import RecordWriteError

        with pytest.raises(RecordWriteError, match="could not be written"):
            for i in range(20):
                writer({"type": "turn", "t": i, "text": "a long line of words " * 3})
        writer({"type": "end", "t": 99})                                    # ignored, no raise
        writer.close()
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, old_limit)
        signal.signal(signal.SIGXFSZ, old_handler)
    lines = record.read_text().splitlines()
    assert lines and all(isinstance(json.loads(line), dict) for line in lines)
