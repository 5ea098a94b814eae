"""The latency benchmark's pure helpers (benchmarks/latency_sessions.py, latency_report.py):
pauses are the silence they say, the finished session ends its turns without cues, the
report's groups and verdicts. No audio is rendered and no model loads."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import latency_report as report  # noqa: E402
import latency_sessions as sessions  # noqa: E402

from facilitator import prompts as prompt_files  # noqa: E402
from facilitator.core import words  # noqa: E402

RATE = sessions.SAMPLE_RATE


def phrase(loud_s: float, pad_s: float) -> np.ndarray:
    """A phrase: `pad_s` of silence, `loud_s` of a loud tone, `pad_s` of silence."""
    tone = (8000 * np.sin(np.arange(int(loud_s * RATE)) * 0.3)).astype(np.int16)
    pad = np.zeros(int(pad_s * RATE), np.int16)
    return np.concatenate([pad, tone, pad])


def test_a_pause_is_that_much_silence_between_the_loud_parts():
    parts = [phrase(0.5, 0.35), phrase(0.4, 0.2), phrase(0.3, 0.1)]
    joined = sessions.join_phrases(parts, [0.8, 1.5])
    assert sessions.silent_gaps(joined) == pytest.approx([0.8, 1.5], abs=0.011)
    start, end = sessions.voiced_extent(joined)
    assert start == pytest.approx(0.35, abs=0.011)               # the outer padding is kept
    assert len(joined) / RATE - end == pytest.approx(0.1, abs=0.011)


def test_trim_keeps_a_silent_phrase_and_the_ends_asked_for():
    silent = np.zeros(1600, np.int16)
    assert sessions.trim(silent, True, True) is silent
    audio = phrase(0.5, 0.3)
    assert len(sessions.trim(audio, start=True, end=False)) / RATE == pytest.approx(0.8, abs=0.011)


def test_paused_text_splits_the_demo_lines_at_their_clauses():
    text = "I felt lonely last week when you worked late every night. | I missed having dinner together."
    assert sessions.paused_text(text) == ("I felt lonely last week | when you worked late every night. | "
                                          "I missed having dinner together.")
    assert sessions.split_phrases("a | b |  | c") == ["a", "b", "c"]


def test_quick_keeps_seven_lines_or_the_finished_sessions_first_round():
    steps = [step for _, step, _ in sessions.FINISHED_LINES]
    assert sessions.quick_cut("demo", steps) == 7
    cut = sessions.quick_cut("finished", steps)
    assert steps[cut - 1] == "empathy_confirm" and "empathy_confirm" not in steps[:cut - 1]


def test_the_fluent_session_is_the_finished_one_without_its_pauses():
    names, fluent = sessions._script("fluent")
    _, finished = sessions._script("finished")
    assert names == sessions.FINISHED_NAMES and len(fluent) == len(finished)
    assert any("|" in text for _, _, text, _ in finished)
    for (speaker, step, text, as_demo), (speaker_f, step_f, text_f, _) in zip(fluent, finished):
        assert (speaker, step, as_demo) == (speaker_f, step_f, False) and "|" not in text
        assert words(text) == words(text_f.replace("|", " "))
    steps = [step for _, step, _, _ in fluent]
    assert sessions.quick_cut("fluent", steps) == sessions.quick_cut("finished", steps)


def test_no_cue_latency_is_also_reported_per_session():
    turns = [{"session": "finished", "reason": "complete", "to_prompt": 1.8},
             {"session": "finished", "reason": "cue", "to_prompt": 0.2},
             {"session": "fluent", "reason": "complete", "to_prompt": 1.0},
             {"session": "fluent", "reason": "complete", "to_prompt": None}]
    table = report.per_session(turns)
    assert list(table) == ["finished", "fluent"]
    assert table["finished"] == {"n_prompted": 1, "prompt_p50": 1.8, "prompt_p95": 1.8}
    assert table["fluent"]["n_prompted"] == 1 and table["fluent"]["prompt_p50"] == 1.0


def test_the_finished_sessions_thoughts_end_without_their_steps_cues():
    script = prompt_files.load_toml("intentional_dialogue")
    cues = {step["name"]: step.get("cues", []) for step in script["steps"]}
    thoughts = [(step, text) for _, step, text in sessions.FINISHED_LINES
                if step in ("send", "mirror", "summary", "validate", "empathize")]
    assert len(thoughts) == 10
    for step, text in thoughts:
        said = " ".join(words(text.replace("|", " ")))
        for cue in cues[step]:
            assert not said.endswith(" ".join(words(cue))), (step, text, cue)
    paused = [text for _, _, text in sessions.FINISHED_LINES if "|" in text]
    assert len(paused) >= 6
    assert {step for step, _ in thoughts} <= set(cues)
    assert {step for _, step, _ in sessions.FINISHED_LINES} - {"enroll_A", "enroll_B"} <= set(cues)


def turn(reason: str, to_prompt: float | None, to_text: float = 0.5) -> dict:
    return {"reason": reason, "to_prompt": to_prompt, "to_text": to_text,
            "own_prompt": to_prompt, "parts": None}


def test_pct_is_linear_between_the_nearest_values():
    assert report.pct([], 0.5) is None
    assert report.pct([3.0], 0.95) == 3.0
    assert report.pct([1.0, 2.0, 3.0, 4.0], 0.5) == pytest.approx(2.5)
    assert report.pct(list(range(21)), 0.95) == pytest.approx(19.0)


def test_targets_group_turns_by_cue_and_every_other_reason():
    turns = [turn("cue", 0.2), turn("cue", 0.3), turn("cue", None),
             turn("complete", 0.9), turn("silence", 1.6), turn("model", 0.8)]
    table = report.summarize(turns)
    assert table["cue-ended"]["n"] == 3 and table["cue-ended"]["n_prompted"] == 2
    assert table["not cue"]["n"] == 3 and {"complete", "silence", "model"} <= set(table)
    goal = report.targets(table, mid_turn=1, rss_mb=480.0)
    assert goal["cue_p50"]["verdict"] == "ok" and goal["cue_p95"]["verdict"] == "ok"
    assert goal["finished_p50"]["value"] == pytest.approx(0.9)
    assert goal["finished_p50"]["verdict"] == "ok" and goal["finished_p95"]["verdict"] == "MISS"
    assert goal["mid_turn"]["verdict"] == "MISS" and goal["rss_mb"]["verdict"] == "ok"
    none = report.targets(report.summarize([turn("cue", 0.2)]), 0, 400.0)
    assert none["finished_p50"]["verdict"] == "n/a"
