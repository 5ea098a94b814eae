"""What the review writes is intimate: reports, subtitles and history.html are 0600 and the
folders made for them 0700, whatever the umask, and they are replaced atomically."""

from __future__ import annotations

import argparse
import os
import stat
from pathlib import Path
from typing import Iterator

import pytest

from facilitator.review import cli as review_cli
from facilitator.review.sample import write_sample


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    review_cli.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    return int(args.handler(args))


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The usual umask, which would leave new files readable by everyone (0644)."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_report_and_subtitles_are_private(tmp_path: Path, open_umask: None) -> None:
    record = write_sample(tmp_path / "s.jsonl")
    assert main(["report", str(record)]) == 0
    for name in ("s.html", "s.vtt", "s.srt"):
        assert mode(tmp_path / name) == 0o600, name
    (tmp_path / "s.html").chmod(0o644)             # a report written before: replaced, private again
    assert main(["report", str(record)]) == 0
    assert mode(tmp_path / "s.html") == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]   # nothing left half-written


def test_a_folder_made_for_out_is_private(tmp_path: Path, open_umask: None) -> None:
    record = write_sample(tmp_path / "s.jsonl")
    out = tmp_path / "reports" / "couple" / "week1.html"
    assert main(["report", str(record), "--out", str(out)]) == 0
    assert mode(tmp_path / "reports") == 0o700 and mode(tmp_path / "reports" / "couple") == 0o700
    for path in (out, out.with_suffix(".vtt"), out.with_suffix(".srt")):
        assert mode(path) == 0o600, path.name


def test_history_page_is_private(tmp_path: Path, open_umask: None) -> None:
    write_sample(tmp_path / "20261121-153000.jsonl")
    assert main(["history", "--dir", str(tmp_path)]) == 0
    assert mode(tmp_path / "history.html") == 0o600
