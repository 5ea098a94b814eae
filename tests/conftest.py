"""Shared fixtures: synthetic partner speech, a loaded transcriber (once per run)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from facilitator.config import TranscriptionConfig


# Tests that load a real model (Whisper, the voice models) or render many voices are end-to-end
# tier (`e2e`): `pytest -m "not e2e and not pulse"` is the fast tier, under a minute.
HEAVY_FIXTURES = {"transcriber", "voice_dir", "voices", "ident", "backend", "hybrid", "profiles",
                  "overlap_detector", "demo_run"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HEAVY_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.e2e)
    if shutil.which("espeak-ng") is None:
        skip = pytest.mark.skip(reason="espeak-ng is not installed (run scripts/setup.sh --test)")
        for item in items:
            if "e2e" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def transcriber():
    from facilitator.transcribe import Transcriber

    model = Transcriber(TranscriptionConfig())
    model.set_glossary("Alex, Sam. What I hear you saying is. Did I get that? Is there more?")
    model.warm_up()
    return model


@pytest.fixture(scope="session")
def say():
    from functools import lru_cache

    from facilitator.sim.voices import speak_to_array

    @lru_cache(maxsize=None)
    def render(text: str, voice: str = "en-us"):
        return speak_to_array(text, voice)

    return render


# (engines and their settings, text) -> (int16 samples, rate): every prompt rendered in this
# test run, for `shared_prompt_renders`.
_PROMPT_RENDERS: dict[tuple, tuple] = {}


@pytest.fixture(scope="module")
def shared_prompt_renders():
    """The facilitator's prompts rendered once per test run, not once per session (for the
    modules that ask for it: `pytest.mark.usefixtures("shared_prompt_renders")`).

    A session renders every prompt of its script, for both partners as Sender, ahead on a
    thread beside the loop (45 texts, ~250 s of speech: ~25 s of CPU with Piper);
    the e2e tests hold dozens of sessions in this process, and rendering the same prompts
    again was most of their time. With this fixture the engines (`CheckedRenderer.
    _render_now`, the fallback chain included) still render each prompt the first time a
    session of the run needs it; a later session finds it rendered, as a prompt rendered
    ahead is found. The engines, their fallbacks and the rendering ahead are tested in
    test_piper.py, test_speech_out.py and test_small_rooms.py; a session in a fresh
    process (`facilitator ...` as a subprocess) renders everything itself."""
    from facilitator import speech_out

    render_now = speech_out.CheckedRenderer._render_now

    def rendered_once(self, text: str):
        engines = tuple((type(r).__name__, str(getattr(r, "files", getattr(r, "voice", ""))),
                         getattr(r, "rate", None), getattr(r, "volume", None), getattr(r, "natural", None))
                        for r in self.renderers)
        known = _PROMPT_RENDERS.get((engines, text))
        if known is None:
            rendered = render_now(self, text)
            with self._lock:
                if text in self._cache:
                    _PROMPT_RENDERS[(engines, text)] = self._cache[text]
            return rendered
        samples, rate = known
        with self._lock:
            self._cache[text] = known
        return speech_out.Rendered(samples.astype(np.float32) / 32767.0, rate)

    with pytest.MonkeyPatch.context() as patch:       # for the module that asks for it
        patch.setattr(speech_out.CheckedRenderer, "_render_now", rendered_once)
        yield


@pytest.fixture(autouse=True)
def _fresh_facilitator_loggers():
    """Each test sees facilitator's loggers as a fresh process does: an earlier test may
    have run `facilitator.cli.main` (which sets their level) or a library may have
    configured logging and disabled existing loggers."""
    import logging

    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if name == "facilitator" or name.startswith("facilitator."):
            if isinstance(logger, logging.Logger):
                logger.disabled = False
                logger.setLevel(logging.NOTSET)
                logger.propagate = True
    yield
