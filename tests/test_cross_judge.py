"""The cross-encoder judge (facilitator/judging/cross.py): its files, its verdicts on
replies of the kinds that fooled the word-level judge, and what happens without it."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from facilitator.config import JudgeConfig
from facilitator.judging import KINDS, PASSING_LABELS, cross, default_judge
from facilitator.judging.cross import CrossJudge, CrossJudgeMissing
from facilitator.judging.cross_format import LABELS, REASONS, SLICES, as_said, pair
from facilitator.judging.structured import StructuredJudge


@pytest.fixture(scope="module")
def judge() -> CrossJudge:
    return CrossJudge()


def test_the_model_ships_in_the_package_and_is_small():
    files = [cross.MODEL_DIR / name for name in ("judge.onnx", "tokenizer.json")]
    assert all(f.is_file() for f in files)
    assert sum(f.stat().st_size for f in files) <= 25_000_000


def test_every_kind_has_its_labels_passing_first():
    assert set(SLICES) == set(KINDS)
    for kind, (low, high) in SLICES.items():
        names = [name.split(":", 1) for name in LABELS[low:high]]
        assert {k for k, _ in names} == {kind}
        assert names[0][1] in PASSING_LABELS[kind]
    assert pair("sender_statement", [], "you never listen") == ("statement:", "you never listen.")
    assert pair("mirror", ["I feel alone.", " "], "") == ("mirror of: I feel alone.", "...")


def test_typed_and_heard_turns_reach_the_model_alike(judge):
    """Each turn ends on one full stop, as Whisper writes it: a typed mirror without one is
    judged as the same words heard (the missing stop had made paraphrases 'not a mirror')."""
    assert as_said("  so you feel alone  ") == "so you feel alone."
    assert as_said("Did I get that?!") == "Did I get that." and as_said(" ... ") == ""
    sender = ["i'd like us to sit down with a spreadsheet before the kitchen remodel, because "
              "last time with the bathroom we went way over and i was stressed for months"]
    typed = ("so you'd like us to sit down with a spreadsheet before the kitchen remodel because "
             "last time with the bathroom we went way over and you were stressed for months")
    heard = ("So you'd like us to sit down with a spreadsheet before the kitchen remodel because "
             "last time with the bathroom we went way over, and you were stressed for months.")
    assert judge.judge("mirror", sender, typed).label == judge.judge("mirror", sender, heard).label == "mirror"


def test_the_default_judge_is_the_cross_encoder(judge):
    assert isinstance(default_judge(), CrossJudge)
    assert isinstance(default_judge(JudgeConfig(model="structured")), StructuredJudge)


SENDER = "When you drove my dad to the airport at five in the morning, I felt so grateful."
# (reply, passes) — written for this test, in several voices; none is in data/judging.
MIRRORS = [
    ("So when I drove your dad to the airport at five in the morning, you felt really grateful. Did I get that?", True),
    ("what i heard you say is: when you drove my dad to the airport so early, i felt so grateful", True),
    ("So when your dad drove me to the airport at five in the morning, you felt grateful.", False),
    ("So you felt grateful, but honestly anyone would have done it, it's not a big deal.", False),
]


@pytest.mark.parametrize("reply,passes", MIRRORS)
def test_mirrors_are_judged_on_who_did_what(judge, reply, passes):
    verdict = judge.judge("mirror", [SENDER], reply)
    assert verdict.passed is passes, verdict
    assert 0.0 <= verdict.score <= 1.0


STATEMENTS = [
    ("I feel lonely when we eat dinner in front of the TV, and I'd love one night a week without it.", True),
    ("I feel sick just looking at you.", False),
    ("Who raised you? Seriously, who taught you to leave dishes like that?", False),
    ("Oh great, another brilliant plan from the genius of the family.", False),
]


@pytest.mark.parametrize("reply,safe", STATEMENTS)
def test_blame_without_the_usual_markers_is_heard(judge, reply, safe):
    assert judge.judge("sender_statement", [], reply).passed is safe


def test_a_failing_verdict_says_what_to_coach(judge):
    verdict = judge.judge("mirror", [SENDER], "So you think I don't do enough for your family.")
    assert not verdict.passed
    assert getattr(verdict, "reason", "") in REASONS
    assert verdict.missing or verdict.intrusions
    assert judge.judge("mirror", [SENDER], MIRRORS[0][0]).missing == []


def test_unknown_kind_is_refused(judge):
    with pytest.raises(ValueError):
        judge.judge("appreciation", [], "thank you")


def test_without_its_files_the_structured_judge_stands_in(tmp_path: Path, monkeypatch, caplog):
    monkeypatch.setattr(cross, "MODEL_DIR", tmp_path / "missing")
    monkeypatch.setattr(CrossJudge.__init__, "__defaults__", (tmp_path / "missing", 1))
    with caplog.at_level(logging.WARNING, logger="facilitator"):
        assert isinstance(default_judge(), StructuredJudge)
    assert "missing" in caplog.text and "structured" in caplog.text


def test_a_corrupt_model_is_named(tmp_path: Path):
    shutil.copy(cross.MODEL_DIR / "tokenizer.json", tmp_path / "tokenizer.json")
    (tmp_path / "judge.onnx").write_bytes(b"not a model")
    with pytest.raises(CrossJudgeMissing, match="cannot be read"):
        CrossJudge(tmp_path)


def test_heldout_accuracy(judge):
    """Our own held-out groups (never trained on) of the case files the shipped model was
    trained with (trained.json; files written later are measured by benchmarks/judges.py),
    as written and as tiny.en heard them; the full report per kind is benchmarks/judges.py.
    The worse mistake is praising a mirror that changed what was said: at most 2% of the
    not-mirrors pass (the model before stop 27's: 7% as written, 8% as heard). Summaries
    are held to 0.84: stop 27's model reads more heard partial summaries as not-summaries
    (0.905 -> 0.845 as heard; passing or not unchanged, 0.994), a loss kept for what it gained."""
    import json
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data" / "judging"))
    from speak_cases import as_transcribed, load_transcripts
    from train_judge import case_file, is_heldout, own_cases

    trained_on = set(json.loads((cross.MODEL_DIR / "trained.json").read_text())["case_files"])
    cases = [c for c in own_cases() if is_heldout(c) and case_file(c) in trained_on]
    heard = [as_transcribed(c, load_transcripts(cross.MODEL_DIR.parents[2] / "data" / "judging" / "transcripts.jsonl"))
             for c in cases]
    assert len(cases) > 800 and all(h is not None for h in heard)
    for version in (cases, heard):
        verdicts = [(c, judge.judge(c["kind"], c["context"], c["reply"])) for c in version]
        mirrors = [(c, v) for c, v in verdicts if c["kind"] == "mirror"]
        assert sum(v.label == c["label"] for c, v in mirrors) / len(mirrors) >= 0.82
        assert sum(v.passed == (c["label"] == "mirror") for c, v in mirrors) / len(mirrors) >= 0.95
        not_mirrors = [v for c, v in mirrors if c["label"] == "not_mirror"]
        assert sum(v.passed for v in not_mirrors) / len(not_mirrors) <= 0.02
        for kind, floor in (("summary", 0.84), ("validation", 0.88), ("empathy", 0.88), ("sender_statement", 0.88)):
            of_kind = [(c, v) for c, v in verdicts if c["kind"] == kind]
            assert sum(v.label == c["label"] for c, v in of_kind) / len(of_kind) >= floor, kind


def test_a_partial_mirror_is_coached_on_what_it_left_out(judge):
    """A partial never gets a not-mirror reason ("who did what") for coaching."""
    from facilitator.judging.cross_format import REASONS_FOR
    from facilitator.judging.feedback import feedback_text

    sender = "I felt lonely last week when you worked late every night. I missed having dinner together."
    verdict = judge.judge("mirror", [sender], "What I hear you saying is that you felt lonely last week. Did I get that?")
    assert verdict.label == "partial"
    assert verdict.reason in REASONS_FOR["mirror:partial"]
    spoken = feedback_text(verdict, "Alex", "Sam")
    assert "who did what" not in spoken and "left out" in spoken


@pytest.mark.parametrize("sender, reply", [
    ("I want to go back to work part time now that the baby sleeps. I miss using my brain.",
     "So you want to go back to work full time."),
    ("When you left the door unlocked again last night I felt unsafe.", "So you felt safe."),
])
def test_a_partial_that_says_it_the_other_way_round_is_not_a_mirror(judge, monkeypatch, sender, reply):
    """Whatever the model reads as leaving something out, an opposite word or feeling makes
    it a not-mirror, coached on what was turned round."""
    assert cross.distorted([sender], reply) == "negation"
    as_partial = ({"mirror": 0.1, "partial": 0.8, "not_mirror": 0.1}, judge.scores("mirror", [sender], reply)[1])
    monkeypatch.setattr(judge, "scores", lambda kind, context, reply: as_partial)
    verdict = judge.judge("mirror", [sender], reply)
    assert verdict.label == "not_mirror" and verdict.reason == "negation"


def test_a_faithful_partial_keeps_its_label(judge, monkeypatch):
    sender = "I felt lonely last week when you worked late every night. I missed having dinner together."
    reply = "What I hear you saying is that you felt lonely last week. Did I get that?"
    assert cross.distorted([sender], reply) == ""
    assert judge.judge("mirror", [sender], reply).label == "partial"
