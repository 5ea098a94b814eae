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
from facilitator.review.report import STYLE, render_html, text_summary, write_report
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


@pytest.mark.parametrize("content, problem", [
    (b"", "it is empty"),
    (b"\n  \n", "it is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00garbage\n", "it is not a session record"),
    (b'{"type":"turn","t":1,"text":"hi"}\n', "it is not a session record"),
])
def test_report_refuses_a_record_that_holds_no_session(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      content: bytes, problem: str) -> None:
    record = tmp_path / "r.jsonl"
    record.write_bytes(content)
    assert main(["report", str(record)]) == 2
    captured = capsys.readouterr()
    assert f"{record} holds no session: {problem}" in captured.err
    assert "facilitator history" in captured.err           # and what to do instead
    assert captured.out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.jsonl"]     # nothing written


def test_report_names_damaged_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = write_sample(tmp_path / "s.jsonl")
    lines = record.read_text().splitlines()
    lines[11] = lines[11][:15]
    record.write_text("\n".join(lines) + "\n")
    assert main(["report", str(record), "--no-subtitles"]) == 0
    assert f"Note: {record}: skipped 1 damaged line (line 12)" in capsys.readouterr().err


def test_report_out_into_a_new_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = write_sample(tmp_path / "s.jsonl")
    out = tmp_path / "new" / "deeper" / "week1.html"
    assert main(["report", str(record), "--out", str(out)]) == 0
    assert out.is_file() and (tmp_path / "new" / "deeper" / "week1.vtt").is_file()
    assert f"Report: {out}" in capsys.readouterr().out
    # a folder (existing, or named with a trailing slash) takes <record>.html
    assert main(["report", str(record), "--out", str(tmp_path / "new"), "--no-subtitles"]) == 0
    assert (tmp_path / "new" / "s.html").is_file()
    assert main(["report", str(record), "--out", str(tmp_path / "folder") + "/", "--no-subtitles"]) == 0
    assert (tmp_path / "folder" / "s.html").is_file()
    # dots in the name stay: week.2.html gets week.2.vtt, not week.vtt
    assert main(["report", str(record), "--out", str(tmp_path / "week.2.html")]) == 0
    assert (tmp_path / "week.2.vtt").is_file() and not (tmp_path / "week.vtt").exists()


def test_report_that_cannot_be_written_gives_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = write_sample(tmp_path / "s.jsonl")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["report", str(record), "--out", str(blocker / "r.html")]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("Could not write the report: ") and "Traceback" not in captured.err
    assert main(["report", str(record), "--out", str(record)]) == 2          # never over the record
    assert "would overwrite the record" in capsys.readouterr().err
    assert read_record(record) == sample_events()


def test_long_text_stays_in_its_key_number_card(tmp_path: Path) -> None:
    events = [e for e in sample_events() if e["type"] != "end"]     # "record ends without an end (...)"
    session = analyse(events)
    html = render_html(session)
    card = re.search(r"<li class=words>Ending<b>([^<]+)</b></li>", html)
    assert card and card.group(1) == "record ends without an end (interrupted?)"
    rule = re.search(r"\.numbers li \{[^}]*\}", STYLE).group(0)
    assert "overflow-wrap:anywhere" in rule and "min-width:0" in rule
    assert re.search(r"\.numbers li\.words b \{[^}]*font-size:1\.1rem", STYLE)
    assert "<li>Length<b>" in html                            # numbers keep the big type


def test_report_shows_step_titles_not_ids() -> None:
    events = sample_events()
    events.insert(-1, {"type": "step", "t": 300.0, "name": "summary_confirm", "round": 2,
                       "sender": "B", "receiver": "A"})
    events.insert(-1, {"type": "turn", "t": 301.0, "speaker": "B", "role": "sender",
                       "step": "summary_confirm", "text": "Yes.", "start": 300.2, "end": 300.8})
    session = analyse(events)
    html = render_html(session)
    transcript = html[html.index('id=h-transcript'):]
    steps = html[html.index('id=h-steps'):html.index('id=h-transcript')]
    assert "Checking the summary" in transcript and "summary_confirm" not in html
    assert "Sender&#x27;s message" in steps and "Mirroring" in steps and "Appreciations" in steps
    assert "<td>Mirroring</td>" in transcript
    assert "Checking the summary" in text_summary(session)
