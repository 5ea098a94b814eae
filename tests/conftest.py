"""Shared fixtures: synthetic partner speech, a loaded transcriber (once per run)."""

from __future__ import annotations

import shutil

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
