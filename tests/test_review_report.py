"""Reports, subtitles and the numbers behind them, from recorded sessions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import argparse

from facilitator.review import cli as review_cli
from facilitator.review.analysis import analyse
from facilitator.review.exports import to_srt, to_webvtt
from facilitator.review.homework import load_homework, suggest
from facilitator.review.record import read_record
from facilitator.review.report import write_report
from facilitator.review.sample import sample_events, write_sample


def main(argv: list[str]) -> int:
    """Run a review sub-command through the same register() the real CLI uses."""
    parser = argparse.ArgumentParser()
    review_cli.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    return int(args.handler(args))


def test_analysis_of_a_whole_session() -> None:
    session = analyse(sample_events())
    assert session.id == "20261121-153000"
    assert session.names == {"A": "Alex", "B": "Sam"}
    assert session.completed
    mirrors = session.mirrors
    assert [m.tries for m in mirrors] == [2, 1, 1]
    assert mirrors[0].missed == ["tired", "worked", "day"]
    assert [m.receiver for m in mirrors] == ["B", "B", "A"]
    # the coach overrode round 2's "partial" mirror to "mirror"
    assert mirrors[2].first_try and mirrors[2].attempts[0].original_label == "partial"
    assert session.first_try_rate == pytest.approx(2 / 3)
    validation = session.of_kind("validation")
    assert [v.tries for v in validation] == [2, 1]
    talk = session.talk_time()
    assert talk["A"] > 0 and talk["B"] > talk["A"]
    assert sum(session.turn_counts().values()) == len(session.turns) == 18
    assert "?" not in session.partners
    assert all(s.status == "done" for s in session.steps)
    assert len(session.interruptions) == 1
    assert "because" in session.weaknesses() and "appreciations" not in session.weaknesses()


def test_stopped_session_marks_the_last_step_unfinished() -> None:
    session = analyse(sample_events(complete=False, first_mirror_ok=True))
    assert session.end_reason == "stopped"
    assert session.steps[-1].status == "unfinished"
    assert session.first_try_rate == 1.0
    assert {"finishing", "appreciations"} <= set(session.weaknesses())


def test_skip_and_unknown_speaker() -> None:
    events = [
        {"type": "session", "t": 0, "names": {"A": "Alex", "B": "Sam"}},
        {"type": "step", "t": 1, "name": "send", "round": 1, "sender": "A", "receiver": "B"},
        {"type": "turn", "t": 3, "speaker": None, "text": "hello", "start": 1, "end": 3},
        {"type": "control", "t": 4, "action": "skip", "source": "coach"},
        {"type": "step", "t": 5, "name": "mirror", "round": 1, "sender": "A", "receiver": "B"},
        {"type": "override", "t": 6, "kind": "mirror", "label": "mirror"},   # nothing to override
    ]
    session = analyse(events)
    assert [s.status for s in session.steps] == ["skipped", "unfinished"]
    assert session.partners == ["A", "B", "?"]
    assert session.name(None) == "Unknown speaker"
    assert session.first_try_rate is None and session.end_reason is None


def test_report_is_self_contained_html_beside_the_record(tmp_path: Path) -> None:
    record = write_sample(tmp_path / "20261121-153000.jsonl", torn=True)
    session, files, summary = write_report(record)
    assert files.html == tmp_path / "20261121-153000.html"
    html = files.html.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    # nothing fetched from elsewhere: no scripts, links, images, fonts or remote urls
    assert "<script" not in html.lower()
    assert "<link" not in html.lower() and "<img" not in html.lower()
    assert "@import" not in html and "@font-face" not in html
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', html)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", html)
    assert html.count("<svg") == 3       # talk time, mirror scores, timeline
    assert 'aria-label="Talk time per partner"' in html
    for text in ("Alex", "Sam", "tired, worked, day", "coach changed it from partial",
                 "Practise the &quot;because&quot; part", "I appreciate that you listened"):
        assert text in html
    assert "Mirrors: 3; right first try 2/3 (67%)" in summary
    assert "missed: tired, worked, day" in summary
    assert [p.suffix for p in files.subtitles] == [".vtt", ".srt"]
    assert all(p.parent == tmp_path for p in files.subtitles)


def test_html_escapes_what_people_said(tmp_path: Path) -> None:
    events = sample_events()
    events[3] = dict(events[3], text="<script>alert('x')</script> & more")
    path = tmp_path / "x.jsonl"
    path.write_text("\n".join(__import__("json").dumps(e) for e in events))
    _, files, _ = write_report(path, subtitles=False)
    html = files.html.read_text()
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert files.subtitles == []


def test_webvtt_and_srt() -> None:
    session = analyse(sample_events())
    vtt = to_webvtt(session)
    assert vtt.startswith("WEBVTT\n")
    cues = re.findall(r"^(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})\n<v (\w+)>(.+)$", vtt, re.M)
    assert len(cues) == len(session.turns)
    assert cues[1][2:] == ("Alex", session.turns[1].text)
    assert all(start < end for start, end, *_ in cues)
    srt = to_srt(session)
    blocks = srt.strip().split("\n\n")
    assert len(blocks) == len(session.turns)
    assert re.fullmatch(r"2\n00:00:10,300 --> 00:00:17,800\nAlex: I feel tired .+", blocks[1])


def test_report_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = write_sample(tmp_path / "s.jsonl", complete=False)
    assert main(["report", str(record)]) == 0
    out = capsys.readouterr().out
    assert "stopped early" in out and f"Report: {tmp_path / 's.html'}" in out
    assert (tmp_path / "s.vtt").exists() and (tmp_path / "s.srt").exists()
    assert main(["report", str(tmp_path / "missing.jsonl")]) == 1


def test_report_of_an_empty_record(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = tmp_path / "empty.jsonl"
    record.write_text('{"type":"session","t":0,"id":"x","names":{"A":"Alex","B":"Sam"}}\n{"type":"st')
    assert main(["report", str(record)]) == 0
    captured = capsys.readouterr()
    assert "Mirrors: none judged" in captured.out and "holds no turns" in captured.err
    assert read_record(record)[0]["id"] == "x"


def test_homework_is_chosen_by_what_was_weak() -> None:
    catalogue = load_homework()
    assert {h.weakness for h in catalogue} >= {"because", "appreciations", "mirror_first_try", "general"}
    picked = suggest([["because"], ["because", "appreciations"]], catalogue)
    assert [h.weakness for h in picked] == ["because", "appreciations"]
    assert [h.weakness for h in suggest([[]], catalogue)] == ["general"]
    assert len(suggest([["because", "empathy", "summary", "blame", "balance"]], catalogue)) == 3
