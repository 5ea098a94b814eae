"""`facilitator history`: past sessions, first-try mirror success over time, homework."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

import pytest

from facilitator.review import cli as review_cli
from facilitator.review import formatting as fmt
from facilitator.review import history
from facilitator.review.history import by_couple, homework_for, load_history, render_html, text_table
from facilitator.review.sample import write_sample


def main(argv: list[str]) -> int:
    """Run a review sub-command through the same register() the real CLI uses."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--config")           # as facilitator.cli has it, before the command
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
    couples, hidden = by_couple(entries)
    assert hidden == 0 and [c.title for c in couples] == ["Alex & Sam"]
    assert couples[0].homework == homework
    html = render_html(couples)
    assert html.count("<svg") == 1 and 'aria-label="First-try mirror success over time"' in html
    assert "<script" not in html
    assert html.index("2026-11-28 15:30") < html.index("2026-11-21 15:30")   # latest first


def test_history_command(data_dir: Path, capsys: pytest.CaptureFixture[str],
                         monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(["history", "--dir", str(data_dir / "sessions")]) == 0
    out = capsys.readouterr().out
    assert "2026-11-21 15:30" in out and "For the week ahead (Alex & Sam):" in out
    assert (data_dir / "sessions" / "history.html").exists()

    monkeypatch.setenv("FACILITATOR_DATA_DIR", str(data_dir))   # the data dir, not sessions/
    assert main(["history", "--no-html", "--limit", "1"]) == 0
    out = capsys.readouterr().out
    assert "2026-11-28" in out and "2026-11-21" not in out

    assert main(["history", "--dir", str(data_dir / "nothing")]) == 0
    assert "No session records" in capsys.readouterr().out


def test_cli_registers_report_and_history() -> None:
    from facilitator.cli import build_parser

    parser = build_parser()     # a sub-command module that fails to import fails this test
    args = parser.parse_args(["history", "--dir", "x"])
    assert args.handler.__name__ == "run_history"
    assert parser.parse_args(["report", "r.jsonl"]).handler.__name__ == "run_report"


def _write(folder: Path, name: str, **options) -> Path:
    return write_sample(folder / f"{name}.jsonl", session_id=name, **options)


def test_sessions_of_one_day_are_told_apart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path, "a", started="2026-12-01T09:00:00+00:00")
    _write(tmp_path, "b", started="2026-12-01T14:05:00+00:00", first_mirror_ok=True)
    _write(tmp_path, "c", started="2026-12-01T14:05:30+00:00")
    drawn = []
    monkeypatch.setattr(history.plots, "first_try_history_svg", lambda points: drawn.append(points) or "<svg></svg>")
    couples, _ = by_couple(load_history(tmp_path))
    render_html(couples)
    labels = [label for label, _ in drawn[0]]
    assert labels == ["01 Dec 09:00:00", "01 Dec 14:05:00", "01 Dec 14:05:30"]   # same minute: seconds
    assert fmt.short_labels([datetime(2026, 12, 1, 9), datetime(2026, 12, 1, 14, 5)]) == \
        ["01 Dec 09:00", "01 Dec 14:05"]
    assert fmt.short_labels([datetime(2025, 12, 1, 9), datetime(2026, 12, 1, 9)]) == \
        ["01 Dec 2025 09:00", "01 Dec 2026 09:00"]
    assert fmt.short_labels([None, None]) == ["#1", "#2"]
    assert "2026-12-01 09:00" in text_table(couples[0].entries)
    assert "2026-12-01 14:05" in text_table(couples[0].entries)


def test_each_couple_has_its_own_table_and_homework(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path, "20261121-153000")                                    # Alex & Sam, weak "because"
    _write(tmp_path, "20261122-153000", started="2026-11-22T15:30:00+00:00",
           names={"A": "Sam", "B": "Alex"})                                # the same couple, roles swapped
    _write(tmp_path, "20261123-100000", started="2026-11-23T10:00:00+00:00",
           names={"A": "Jo", "B": "Kim"}, complete=False, first_mirror_ok=True)
    couples, hidden = by_couple(load_history(tmp_path))
    assert hidden == 0
    assert [(c.title, len(c.entries)) for c in couples] == [("Jo & Kim", 1), ("Sam & Alex", 2)]
    assert "finishing" in {h.weakness for h in couples[0].homework}         # Jo & Kim stopped early
    assert "finishing" not in {h.weakness for h in couples[1].homework}     # Alex & Sam completed

    assert main(["history", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Jo & Kim: 1 session\n" in out and "Sam & Alex: 2 sessions\n" in out
    assert "For the week ahead (Jo & Kim):" in out and "For the week ahead (Sam & Alex):" in out
    html = (tmp_path / "history.html").read_text()
    assert html.count("<table>") == 2 and html.count("<svg") == 2

    assert main(["history", "--dir", str(tmp_path), "--couple", "kim", "--no-html"]) == 0
    out = capsys.readouterr().out
    assert "Jo & Kim" in out and "Alex" not in out
    assert main(["history", "--dir", str(tmp_path), "--couple", "alex & sam", "--no-html"]) == 0
    assert "Sam & Alex: 2 sessions" in capsys.readouterr().out
    assert main(["history", "--dir", str(tmp_path), "--couple", "Pat", "--no-html"]) == 1
    assert "the couples there: Jo & Kim, Sam & Alex" in capsys.readouterr().err


def test_demo_sessions_are_kept_apart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path, "20261121-153000")
    _write(tmp_path, "20261122-153000", started="2026-11-22T15:30:00+00:00", input="demo")
    _write(tmp_path, "20261123-153000", started="2026-11-23T15:30:00+00:00", input="demo")
    assert main(["history", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Alex & Sam: 1 session\n" in out and "2026-11-22" not in out
    assert "2 demo sessions not shown (--demos to include)." in out
    assert "2 demo sessions not shown" in (tmp_path / "history.html").read_text()

    assert main(["history", "--dir", str(tmp_path), "--demos", "--no-html"]) == 0
    out = capsys.readouterr().out
    assert "Alex & Sam: 1 session\n" in out and "Alex & Sam (demo): 2 sessions" in out
    assert "not shown" not in out

    only_demo = tmp_path / "only"
    only_demo.mkdir()
    _write(only_demo, "x", input="demo")
    assert main(["history", "--dir", str(only_demo)]) == 0
    assert "Only demo sessions" in capsys.readouterr().out
    assert not (only_demo / "history.html").exists()


def test_history_reads_the_data_dir_of_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("FACILITATOR_DATA_DIR", raising=False)
    data = tmp_path / "data"
    (data / "sessions").mkdir(parents=True)
    _write(data / "sessions", "20261121-153000")
    config = tmp_path / "mine.toml"
    config.write_text(f'[session]\ndata_dir = "{data}"\n')
    assert main(["--config", str(config), "history", "--no-html"]) == 0
    assert "2026-11-21 15:30" in capsys.readouterr().out

    monkeypatch.chdir(tmp_path)                 # no --config: ./config.toml, as run and resume read it
    (tmp_path / "config.toml").write_text(f'[session]\ndata_dir = "{data}"\n')
    assert main(["history", "--no-html"]) == 0
    assert "2026-11-21 15:30" in capsys.readouterr().out

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert main(["--config", str(config), "history", "--dir", str(elsewhere)]) == 0   # --dir wins
    assert f"No session records in {elsewhere}" in capsys.readouterr().out

    (tmp_path / "bad.toml").write_text("[session\n")
    assert main(["--config", str(tmp_path / "bad.toml"), "history"]) == 2
    assert "Configuration problem:" in capsys.readouterr().err
    assert main(["--config", str(tmp_path / "missing.toml"), "history"]) == 2
    assert "Configuration problem: config file not found" in capsys.readouterr().err


def test_history_names_damaged_lines_and_records_that_hold_no_session(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = _write(tmp_path, "20261121-153000")
    lines = record.read_text().splitlines()
    lines[4] = "garbage"
    record.write_text("\n".join(lines) + "\n")
    (tmp_path / "notes.jsonl").write_text("just some words\n")
    (tmp_path / "new.jsonl").write_text("")                      # a session that never began: silent
    assert main(["history", "--dir", str(tmp_path), "--no-html"]) == 0
    captured = capsys.readouterr()
    assert "20261121-153000.jsonl: skipped 1 damaged line (line 5)" in captured.err
    assert f"left out {tmp_path / 'notes.jsonl'}: it holds no session" in captured.err
    assert "new.jsonl" not in captured.err
    assert "Alex & Sam: 1 session" in captured.out
