"""faster-whisper's internals behind facilitator/whisper_adapter.py: the contract the
adapter relies on holds for the installed version (or the failure names what changed and
what to update), the options built from the library's defaults are today's, and the short
window transcribes silence to nothing and a phrase to its words."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import numpy as np
import pytest

from facilitator import whisper_adapter

ROOT = Path(__file__).resolve().parents[1]

# The options as they were written out by hand before the adapter (issue 14 item 9):
# building them from faster-whisper's defaults must give these, field by field.
HAND_WRITTEN = dict(
    beam_size=1, best_of=1, patience=1.0, length_penalty=1.0,
    repetition_penalty=1.0, no_repeat_ngram_size=0, log_prob_threshold=-1.0,
    no_speech_threshold=0.6, compression_ratio_threshold=2.4,
    condition_on_previous_text=False, prompt_reset_on_temperature=0.5,
    temperatures=[0.0, 0.4, 0.8], initial_prompt="Alex, Sam.", prefix=None,
    suppress_blank=True, suppress_tokens=[-1], without_timestamps=True,
    max_initial_timestamp=1.0, word_timestamps=False, prepend_punctuations="\"'“¿([{-",
    append_punctuations="\"'.。,，!！?？:：”)]}、", multilingual=False,
    max_new_tokens=None, clip_timestamps="0", hallucination_silence_threshold=None,
    hotwords=None,
)


def _installed() -> str:
    import faster_whisper

    return faster_whisper.__version__


def test_faster_whisper_contract_holds():
    problems = whisper_adapter.contract_problems()
    assert not problems, "\n".join(problems)


def test_options_from_library_defaults_equal_the_hand_written_ones():
    options = whisper_adapter.short_options(beam_size=1, prompt="Alex, Sam.")
    fields = whisper_adapter.option_fields()
    assert set(fields) == set(HAND_WRITTEN), (
        f"faster-whisper {_installed()} changed TranscriptionOptions' fields: "
        "update facilitator/whisper_adapter.py (KNOWN_FIELDS, overrides()) and this test")
    changed = {name: (getattr(options, name), HAND_WRITTEN[name]) for name in fields
               if getattr(options, name) != HAND_WRITTEN[name]}   # 1 == 1.0: patience etc.
    assert not changed, (
        f"faster-whisper {_installed()} changed the default of "
        + ", ".join(f"{k} (now {a!r}, we decoded with {b!r})" for k, (a, b) in changed.items())
        + ": transcripts would change; keep the old value in "
        "facilitator/whisper_adapter.py overrides() or accept the new one here")


def test_options_do_not_share_the_library_default_lists():
    first = whisper_adapter.short_options(1, None)
    first.suppress_tokens.append(50257)
    first.temperatures.append(1.0)
    second = whisper_adapter.short_options(1, None)
    assert second.suppress_tokens == [-1] and second.temperatures == [0.0, 0.4, 0.8]


def test_a_field_with_no_source_fails_with_the_fix(monkeypatch):
    fields = whisper_adapter.option_fields() + ("new_knob",)
    monkeypatch.setattr(whisper_adapter, "option_fields", lambda: fields)
    with pytest.raises(RuntimeError, match="new_knob.*update facilitator/whisper_adapter.py"):
        whisper_adapter.short_options(1, None)
    problems = "\n".join(whisper_adapter.contract_problems())
    assert "added: new_knob" in problems and "no override for new_knob" in problems


def test_a_changed_signature_is_named(monkeypatch):
    from faster_whisper import WhisperModel

    def generate_segments(self, features, tokenizer, options, encoder_output=None):
        """faster-whisper 1.0's: no log_progress."""

    monkeypatch.setattr(WhisperModel, "generate_segments", generate_segments)
    problems = whisper_adapter.contract_problems()
    assert len(problems) == 1
    assert re.search(r"faster-whisper \S+ changed WhisperModel.generate_segments.*"
                     r"update facilitator/whisper_adapter.py", problems[0])


def test_pyproject_pins_the_range_the_adapter_knows():
    from packaging.specifiers import SpecifierSet

    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pins = [d for d in data["project"]["dependencies"] if d.startswith("faster-whisper")]
    assert pins == [f"faster-whisper{whisper_adapter.SUPPORTED}"], (
        "pyproject.toml's faster-whisper pin and whisper_adapter.SUPPORTED differ: keep them equal")
    assert _installed() in SpecifierSet(whisper_adapter.SUPPORTED), (
        f"faster-whisper {_installed()} is outside {whisper_adapter.SUPPORTED}: if the tests "
        "here pass, widen the pin in pyproject.toml and whisper_adapter.SUPPORTED; otherwise "
        "update facilitator/whisper_adapter.py")


def test_loaded_model_has_what_the_short_window_uses(transcriber):
    problems = whisper_adapter.contract_problems(transcriber.model)
    assert not problems, "\n".join(problems)


def test_silence_transcribes_to_nothing(transcriber):
    silence = np.zeros(16000, np.float32)
    segments = whisper_adapter.transcribe_short(transcriber.model, silence, None, "en", 1, 10.0)
    assert all(s.text.strip() == "" or s.no_speech_prob > 0.3 for s in segments), segments
    glossary = transcriber.glossary        # the shared model: earlier tests set their own
    transcriber.set_glossary("Alex, Sam. What I hear you saying is. Did I get that? Is there more?")
    try:
        assert transcriber.transcribe(silence).text == ""
    finally:
        transcriber.set_glossary(glossary)


@pytest.mark.e2e
@pytest.mark.parametrize("prompt", [None, "Alex, Sam. What I hear you saying is."])
def test_a_spoken_phrase_transcribes_through_the_short_window(transcriber, say, prompt):
    audio = say("I felt lonely last week when you worked late.").astype(np.float32) / 32768
    segments = whisper_adapter.transcribe_short(transcriber.model, audio, prompt, "en", 1, 10.0)
    words = re.sub(r"[^a-z ]", "", " ".join(s.text for s in segments).lower()).split()
    assert words == "i felt lonely last week when you worked late".split(), words
