"""A turn shorter than the speaker room's windows (a quick "Yes, you did.") must not break it."""

from __future__ import annotations

import numpy as np
import pytest

from facilitator.speakers.channels import smoothed
from facilitator.speakers.segmentation import (FRAME_SPAN, FRAME_STEP, SAMPLE_RATE,
                                               FrameProbabilities, faint_talk_over, runs,
                                               talk_over_stretches, window_sum)


def _frames(n: int, other: float) -> FrameProbabilities:
    times = (np.arange(n) * FRAME_STEP + FRAME_SPAN / 2) / SAMPLE_RATE
    return FrameProbabilities(times, np.full(n, 0.9), np.full(n, other), np.full(n, other),
                              np.full(n, 0.9))


@pytest.mark.parametrize("n", [1, 5, 60, 89, 118, 119, 120, 400])
def test_talk_over_on_turns_shorter_and_longer_than_the_window(n: int) -> None:
    quiet = talk_over_stretches(_frames(n, 0.0), min_s=0.6, window_s=2.0)
    assert quiet == []
    loud = talk_over_stretches(_frames(n, 0.95), min_s=0.6, window_s=2.0)
    assert all(0.0 <= lo < hi for lo, hi in loud)
    faint_talk_over(_frames(n, 0.3), loud)


def test_window_sum_keeps_the_length_and_matches_numpy_same_when_it_fits() -> None:
    values = np.random.default_rng(1).random(100)
    for width in (1, 10, 11, 100):
        assert np.allclose(window_sum(values, width), np.convolve(values, np.ones(width), "same"))
    assert window_sum(values[:89], 119).shape == (89,)
    assert window_sum(values[:89], 119)[44] == pytest.approx(values[:89].sum())


def test_runs_tolerates_a_mask_longer_than_the_times() -> None:
    times = np.arange(5) * 0.1
    assert runs(times, np.ones(9, bool)) == [(0.0, pytest.approx(0.4 + FRAME_STEP / SAMPLE_RATE / 2))]


def test_channel_smoothing_of_a_turn_shorter_than_the_window() -> None:
    powers = np.ones((7, 2))
    assert smoothed(powers, 20).shape == (7, 2)
    assert smoothed(np.ones((50, 2)), 5)[25, 0] == pytest.approx(1.0)
