"""Tests for the judge room: verdicts on typical cases, the held-out set, feedback, CLI.

Uses only the repo's own data (data/judging), never ../shared.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from facilitator.judging import PASSING_LABELS, Verdict, default_judge
from facilitator.judging.cases import read_txt
from facilitator.judging.feedback import feedback_text, load_templates
from facilitator.judging.structured import StructuredJudge
from facilitator.judging.text import clauses, swap_person

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "judging"
sys.path.insert(0, str(DATA))
from train_judge import is_heldout  # noqa: E402

SENDER = ("when you bought the concert tickets for four hundred dollars without talking to me "
          "first i felt really anxious because we said we'd save for the car")


@pytest.fixture(scope="module")
def judge():
    return default_judge()


def test_default_judge_is_structured(judge):
    assert isinstance(judge, StructuredJudge)
    assert judge.heads, "weights.json should be loaded"


@pytest.mark.parametrize("reply,label", [
    ("so when i bought the concert tickets for four hundred dollars without talking to you first "
     "you felt really anxious because we said we'd save for the car. did i get mad", "mirror"),
    ("so you felt anxious when i bought the tickets without asking you", "partial"),
    ("ok so you bought the tickets without talking to me first and i got anxious "
     "cause we said we'd save for the car", "not_mirror"),  # roles not swapped
    ("you say i bought the tickets without talking to you but i literally mentioned "
     "that concert like three times", "not_mirror"),  # rebuttal reusing the words
    ("so what you really mean is you think i'm irresponsible with money", "not_mirror"),
    ("you should just make a budget spreadsheet, that always works", "not_mirror"),
])
def test_mirror_labels(judge, reply, label):
    assert judge.judge("mirror", [SENDER], reply).label == label


def test_role_swap_is_caught():
    j = default_judge()
    sender = "when i reach for you at night and you roll over i feel rejected"
    good = j.judge("mirror", [sender], "when you reach for me at night and i roll over you feel rejected")
    flipped = j.judge("mirror", [sender], "so when i reach for you at night you roll over and you feel rejected")
    assert good.label == "mirror" and flipped.label == "not_mirror"
    assert good.score > flipped.score


def test_missing_names_the_dropped_feeling(judge):
    v = judge.judge("mirror", ["when you roll over at night i feel so lonely"], "so when i roll over at night")
    assert v.label == "partial"
    assert any("lonely" in m for m in v.missing)


def test_intrusions_name_the_defense(judge):
    v = judge.judge("mirror", [SENDER], "you say i bought the tickets but i literally mentioned that concert three times")
    assert any("mentioned that concert" in i for i in v.intrusions)


def test_other_kinds(judge):
    ctx = ["when you stayed late on my birthday i felt forgotten", "i sat at the restaurant waiting for an hour"]
    assert judge.judge("validation", ctx, "you make sense, because it was your birthday and you sat "
                       "waiting at the restaurant for an hour").label == "valid"
    assert judge.judge("validation", ctx, "you make sense, but i texted you").label == "not_valid"
    assert judge.judge("validation", ctx, "yeah you're right").label == "not_valid"
    assert judge.judge("empathy", ctx, "i imagine you might be feeling hurt and lonely").label == "empathic"
    assert judge.judge("empathy", ctx, "i imagine you feel like i don't care about you").label == "not_empathic"
    assert judge.judge("empathy", ctx, "honestly i feel terrible about it").label == "not_empathic"
    assert judge.judge("sender_statement", [], "i feel lonely at night, could we talk").label == "safe"
    assert judge.judge("sender_statement", [], "you never listen to me").label == "blaming"
    assert judge.judge("sender_statement", [], "i feel that you're selfish").label == "blaming"
    full = judge.judge("summary", ctx, "so when i stayed late on your birthday you felt forgotten, and you "
                       "sat at the restaurant waiting for an hour. did i get it all")
    assert full.label == "complete"
    assert judge.judge("summary", ctx, "so you felt forgotten on your birthday").label in ("partial", "not_summary")


def test_unknown_kind_raises(judge):
    with pytest.raises(ValueError):
        judge.judge("hug", [], "")


def test_heldout_accuracy_and_speed(judge):
    """Our own held-out groups (never trained on) stay well above chance, and fast."""
    cases = [c for f in ("mirror_cases.txt", "steps_cases.txt") for c in read_txt(DATA / f) if is_heldout(c)]
    assert len(cases) > 60
    mirrors = [c for c in cases if c["kind"] == "mirror"]
    hits = sum(judge.judge("mirror", c["context"], c["reply"]).label == c["label"] for c in mirrors)
    passed_right = sum(
        (judge.judge("mirror", c["context"], c["reply"]).label == "mirror") == (c["label"] == "mirror")
        for c in mirrors
    )
    assert hits / len(mirrors) >= 0.8
    assert passed_right / len(mirrors) >= 0.9
    others = [c for c in cases if c["kind"] != "mirror"]
    right = sum(judge.judge(c["kind"], c["context"], c["reply"]).label == c["label"] for c in others)
    assert right / len(others) >= 0.85
    start = time.perf_counter()
    for c in cases:
        judge.judge(c["kind"], c["context"], c["reply"])
    assert (time.perf_counter() - start) / len(cases) < 0.03


def test_text_tools():
    assert swap_person("i felt like you didn't care") == "you felt like i didn't care"
    assert clauses("um i was sad and you laughed") == ["i was sad", "and you laughed"]


def test_feedback_mirror_names_the_missing_feeling():
    v = Verdict("mirror", "partial", 0.4, missing=["and i feel so lonely"])
    text = feedback_text(v, "Alex", "Sam")
    assert text.startswith("Thank you, Sam.")
    assert "feeling lonely" in text and "try again" in text


def test_feedback_for_intrusion_blame_and_pass():
    v = Verdict("mirror", "not_mirror", 0.0, intrusions=["but i was tired"])
    assert "added something of your own" in feedback_text(v, "Alex", "Sam")
    b = Verdict("sender_statement", "blaming", 0.0, intrusions=["you never"])
    assert "I-statement" in feedback_text(b, "Alex", "Sam")
    assert feedback_text(Verdict("mirror", "mirror", 0.9), "Alex", "Sam") is None


def test_feedback_templates_cover_every_reason():
    t = load_templates()
    for kind in PASSING_LABELS:
        assert kind in t
    for kind in ("validation", "empathy"):
        for reason in t[kind]:
            v = Verdict(kind, "not_" + ("valid" if kind == "validation" else "empathic"), 0, intrusions=[reason])
            assert feedback_text(v, "Alex", "Sam")


def test_cli_batch_and_single(capsys, tmp_path):
    from facilitator.cli import main

    lines = [
        {"id": "a", "sender": "i miss you", "reply": "i miss you too"},
        {"id": "b", "kind": "sender_statement", "context": [], "reply": "you always do this"},
        {"id": "c", "kind": "empathy", "context": ["i was scared"], "reply": "i imagine you felt scared"},
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    assert main(["judge", "--batch", str(path)]) == 0
    out = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [o["id"] for o in out] == ["a", "b", "c"]
    assert set(out[0]) == {"id", "kind", "label", "score", "missing", "intrusions"}
    assert [o["label"] for o in out] == ["not_mirror", "blaming", "empathic"]
    assert main(["judge", "--sender", "i'm exhausted", "--reply", "you're exhausted. did i get that"]) == 0
    assert json.loads(capsys.readouterr().out)["label"] == "mirror"


def test_training_is_reproducible(tmp_path):
    from train_judge import own_cases, train

    cases = [c for c in own_cases() if not is_heldout(c)][:120]
    assert train(cases) == train(cases)
