"""`facilitator judge` meets bad input with a message, not a traceback: missing or broken
batch files and lines, empty text."""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

import pytest

from facilitator.cli import build_parser, main
from facilitator.judging import Verdict

ROOT = Path(__file__).resolve().parents[1]


def subparser(name: str) -> argparse.ArgumentParser:
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return commands.choices[name]


class FakeJudge:
    """Records what it was asked; every reply is a mirror."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str], str]] = []

    def judge(self, kind: str, context: list[str], reply: str) -> Verdict:
        self.calls.append((kind, list(context), reply))
        return Verdict(kind, "mirror", 1.0)


@pytest.fixture
def fake_judge(monkeypatch) -> FakeJudge:
    fake = FakeJudge()
    monkeypatch.setattr("facilitator.judging.cli.default_judge", lambda: fake)
    return fake


# ------------------------------------------------------------------------------ judge


def test_judge_batch_with_no_such_file_says_so(tmp_path, capsys, fake_judge):
    missing = tmp_path / "missing.jsonl"
    assert main(["judge", "--batch", str(missing)]) == 2
    err = capsys.readouterr().err
    assert f"no such file: {missing}" in err and "Traceback" not in err
    assert main(["judge", "--batch", str(tmp_path)]) == 2          # a folder
    assert "is a folder" in capsys.readouterr().err
    assert fake_judge.calls == []


def test_judge_batch_names_each_bad_line_skips_it_and_exits_1(tmp_path, capsys, fake_judge):
    lines = [
        "not json at all",
        json.dumps({"id": "m1", "reply": "so you felt alone"}),                     # no sender
        json.dumps({"id": "s1", "kind": "summary", "reply": "so all of that"}),     # no context
        json.dumps({"id": "x1", "kind": "pep_talk", "context": ["hi"], "reply": "hi"}),
        "",
        json.dumps({"id": "ok1", "sender": "i felt alone", "reply": "you felt alone"}),
        json.dumps({"id": "m2", "sender": "i felt alone", "reply": "   "}),       # empty reply
        json.dumps(["a", "list"]),
        json.dumps({"id": "ok2", "kind": "sender_statement", "reply": "you always do this"}),
        json.dumps({"id": "e1", "kind": "empathy", "context": "i was scared", "reply": "scared"}),
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n")
    assert main(["judge", "--batch", str(path)]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    for expected in ("line 1: not JSON", 'line 2: no "sender"', 'line 3: no "context"',
                     "line 4: unknown kind 'pep_talk'", 'line 7: "reply" is empty',
                     "line 8: not a JSON object", "6 of 9 lines could not be judged"):
        assert expected in captured.err, (expected, captured.err)
    out = [json.loads(line) for line in captured.out.splitlines()]
    assert len(out) == 9                        # one line out per line in (blank lines aside)
    assert [o["id"] for o in out if "error" in o] == [None, "m1", "s1", "x1", "m2", None]
    assert [o["id"] for o in out if "label" in o] == ["ok1", "ok2", "e1"]
    assert fake_judge.calls == [("mirror", ["i felt alone"], "you felt alone"),
                                ("sender_statement", [], "you always do this"),
                                ("empathy", ["i was scared"], "scared")]


def test_judge_batch_of_good_lines_exits_0(tmp_path, capsys, fake_judge):
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"id": 1, "sender": "i miss you", "reply": "you miss me"}) + "\n")
    assert main(["judge", "--batch", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == 1


@pytest.mark.parametrize("sender,reply,message", [
    ("", "", "--sender is empty: give the words the Sender said"),
    ("i felt alone", "", "--reply is empty: give the words the Receiver said"),
    ("i felt alone", "  \t ", "--reply is empty: give the words the Receiver said"),
    (" ", "you felt alone", "--sender is empty"),
])
def test_judge_refuses_empty_text(sender, reply, message, capsys, fake_judge):
    assert main(["judge", "--sender", sender, "--reply", reply]) == 2
    assert message in capsys.readouterr().err
    assert fake_judge.calls == []


def test_judge_help_is_for_users_and_every_option_is_explained(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["judge", "--help"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    assert "../shared" not in text and "facilitator/" not in text and ".py" not in text
    assert '"sender"' in text and '"context"' in text and '"label"' in text
    for action in subparser("judge")._actions:
        assert action.help, f"judge {action.option_strings} has no help"


def test_judge_errors_through_the_installed_command(tmp_path):
    """The real entry point: exit codes and no traceback (the judge model is never loaded)."""
    command = ROOT / ".venv" / "bin" / "facilitator"
    if not command.exists():
        pytest.skip("no .venv/bin/facilitator (run scripts/setup.sh)")
    for args, code, words in (
            (["judge", "--batch", str(tmp_path / "missing.jsonl")], 2, "no such file"),
            (["judge", "--sender", "i felt alone", "--reply", ""], 2, "--reply is empty")):
        done = subprocess.run([str(command), *args], capture_output=True, text=True, timeout=120)
        assert done.returncode == code and words in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
