"""Step titles: what the report and the coach view show instead of step ids."""

from __future__ import annotations

from pathlib import Path

from facilitator.review.steps import TITLES, step_names, step_title, step_titles


def test_every_step_of_the_script_has_a_human_title() -> None:
    names = step_names()
    assert "summary_confirm" in names and "appointment" in names
    for name in names:
        title = step_title(name)
        assert title and "_" not in title, name
        assert name in TITLES, f"{name} has no title in facilitator/review/steps.py or the script"
    assert step_title("summary_confirm") == "Checking the summary"
    assert step_titles()["empathy_confirm"] == "Checking the empathy"


def test_unknown_and_missing_names() -> None:
    assert step_title("tea_break") == "Tea break"
    assert step_title("") == "" and step_title(None) == ""
    assert step_title("mirror", script="no_such_script") == "Mirroring"


def test_a_title_in_the_script_wins(tmp_path: Path) -> None:
    script = tmp_path / "mine.toml"
    script.write_text('[[steps]]\nname = "mirror"\ntitle = "Say it back"\n\n[[steps]]\nname = "hug"\n')
    assert step_title("mirror", script=str(script)) == "Say it back"
    assert step_title("hug", script=str(script)) == "Hug"
    assert step_titles(str(script))["hug"] == "Hug"
