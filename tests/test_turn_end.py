"""facilitator.turn_end: the text end-of-turn model, the prosody of the end of speech, and
ThoughtEnd's wait (fast: no speech synthesis, no Whisper)."""

from __future__ import annotations

import numpy as np
import pytest

from facilitator.turn_end import ThoughtEnd, ThoughtEndOptions, ThoughtModelMissing
from facilitator.turn_end.prosody import analyse
from facilitator.turn_end.words import TextModel

SR = 16000


@pytest.fixture(scope="module")
def end() -> ThoughtEnd:
    return ThoughtEnd()


def glide(f_start: float, f_end: float, seconds: float = 1.5) -> np.ndarray:
    """A voiced tone (harmonics, syllable-like loudness) gliding from f_start to f_end Hz."""
    t = np.arange(int(seconds * SR)) / SR
    f = f_start * (f_end / f_start) ** (t / seconds)
    phase = 2 * np.pi * np.cumsum(f) / SR
    x = sum(np.sin(k * phase) / k for k in range(1, 8)) * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t) ** 2)
    return (x / np.abs(x).max() * 0.5 * 32767).astype(np.int16)


def test_the_model_loads_and_reads_the_brief_examples(end):
    assert end.model.p_finished("I felt lonely when", "send") < 0.1
    assert end.wait_s("I felt lonely when", "send") == end.options.max_end_s
    assert end.model.p_finished("I felt lonely when you worked late.", "send") > 0.5
    assert end.wait_s("I felt lonely when you worked late.", "send") <= 1.0


@pytest.mark.parametrize("text, step", [
    ("Yeah, you got it.", "confirm"),
    ("No, nothing else.", "more"),
    ("Yes, you got all of it.", "summary_confirm"),
    ("Yes, that's how I feel.", "empathy_confirm"),
    ("I'm free now, go ahead.", "availability"),
    ("I feel nervous when the car makes that noise and you keep driving.", "send"),
    ("You make sense to me, because the noise is scary.", "validate"),
    ("I imagine you might be feeling nervous and a bit ignored.", "empathize"),
    ("I appreciate that you fixed the gate on Saturday.", "appreciate_sender"),
])
def test_finished_thoughts_per_step_are_answered_soon(end, text, step):
    assert end.wait_s(text, step) <= 1.3, end.decide(text, step)


def test_a_mirror_without_its_check_question_waits_a_little_longer(end):
    # Mirrors in the training text end with "did I get that?" (the cue, which ends the turn
    # at once); without it the model is less sure, and waits more than for a message.
    wait = end.wait_s("So you feel nervous when the car makes that noise and I keep driving.", "mirror")
    assert 1.0 <= wait <= 1.6


@pytest.mark.parametrize("text, step", [
    ("I imagine you might be feeling", "empathize"),
    ("What I hear you saying is", "mirror"),
    ("You make sense, because the noise", "validate"),
    ("Let me see if I got it all.", "summary"),
    ("When the car makes that noise, I", "send"),
    ("I appreciate that you", "appreciate_sender"),
])
def test_thoughts_going_on_keep_the_turn_open(end, text, step):
    assert end.wait_s(text, step) >= 1.6, end.decide(text, step)


@pytest.mark.parametrize("last", ["and", "um", "because", "so"])
def test_trailing_words_always_keep_it_open(end, last):
    text = f"I felt lonely last week when you worked late {last}"
    falling = glide(200, 120)
    assert end.wait_s(text, "send", falling, len(falling) / SR) == end.options.max_end_s
    assert end.wait_s(text + ".", None) == end.options.max_end_s


def test_wait_stays_within_its_bounds(end):
    options = ThoughtEndOptions(min_end_s=0.5, max_end_s=2.0)
    narrow = ThoughtEnd(options)
    texts = ["", "Yes.", "and", "I felt hurt.", "So you", "Did I get that?", "!!!", "a " * 300]
    for text in texts:
        for step in (None, "send", "confirm", "nonsense"):
            assert 0.7 <= end.wait_s(text, step) <= 2.8
            assert 0.5 <= narrow.wait_s(text, step) <= 2.0
    with pytest.raises(ValueError):
        ThoughtEnd(min_end_s=2.0, max_end_s=1.0)


def test_prosody_hears_a_fall_and_a_rise():
    fall, rise = glide(200, 125), glide(140, 220)
    assert analyse(fall, len(fall) / SR).state == "final"
    assert analyse(fall, len(fall) / SR).score > 0.3
    assert analyse(rise, len(rise) / SR).state != "final"
    assert analyse(rise, len(rise) / SR).score < 0
    # a fall only at the end of level speech, given as float32
    late = np.concatenate([glide(180, 180, 1.2), glide(180, 130, 0.4)]).astype(np.float32) / 32768
    assert analyse(late, None).state == "final"


def test_prosody_of_silence_noise_and_odd_audio_is_unknown():
    rng = np.random.default_rng(0)
    for audio, end_s in [(np.zeros(2 * SR, np.int16), 2.0),
                         (rng.normal(0, 3000, 2 * SR).astype(np.int16), 2.0),
                         (glide(200, 130, 0.2), 0.2),
                         (np.full(SR, np.nan, np.float32), None),
                         (np.zeros(0, np.int16), 0.0),
                         (None, None),
                         (glide(200, 130), 99.0)]:
        assert analyse(audio, end_s).state in ("unknown", "final", "continuing")
    for audio in (np.zeros(2 * SR, np.int16), rng.normal(0, 3000, 2 * SR).astype(np.int16), glide(200, 130, 0.2)):
        assert analyse(audio, len(audio) / SR).state == "unknown"
    clipped = np.clip(glide(200, 125).astype(np.int32) * 20, -32768, 32767).astype(np.int16)
    assert analyse(clipped, len(clipped) / SR).state == "final"


def test_the_voice_moves_an_uncertain_wait(end):
    text, step = "I felt hurt when you checked your phone", "send"
    fall, rise = glide(200, 120), glide(140, 220)
    assert end.wait_s(text, step, fall, len(fall) / SR) <= end.wait_s(text, step, rise, len(rise) / SR)
    assert ThoughtEnd(use_prosody=False).wait_s(text, step, fall, 1.5) == end.wait_s(text, step)


def test_a_missing_or_corrupt_model_is_a_clear_error(tmp_path):
    missing = tmp_path / "weights.json"
    with pytest.raises(ThoughtModelMissing, match="weights.json.*train.py"):
        ThoughtEnd(weights=missing)
    missing.write_text("{not json", encoding="utf-8")
    with pytest.raises(ThoughtModelMissing, match="cannot be read"):
        TextModel.load(missing)
    missing.write_text('{"format": 1, "classes": ["finished"], "weights": {}}', encoding="utf-8")
    with pytest.raises(ThoughtModelMissing, match="corrupt"):
        TextModel.load(missing)


def test_pacing_trusts_a_partner_s_pace_only_once_heard_and_never_forgets_a_long_pause():
    from facilitator.turn_end.pacing import Pacing, PacingOptions

    pacing = Pacing(PacingOptions(fluent_end_s=1.0, least_end_s=1.7, heard_s=10.0, margin=2.0))
    pacing.heard("A", 30.0, [0.2], weighty=True)
    assert pacing.floor_s("A", weighty=True) == 1.0                  # weighty turns are kept apart
    assert pacing.floor_s("A") == pacing.floor_s(None) == 1.7        # nobody heard yet
    pacing.heard("A", 6.0, [0.2, 0.35])
    assert pacing.floor_s("A") == 1.7                                # not enough speech yet
    pacing.heard("A", 5.0, [0.3])
    assert pacing.floor_s("A") == 1.0                                # fluent: 2 x 0.35 < 1.0
    assert pacing.floor_s("B") == 1.7                                # each partner their own
    assert pacing.floor_s("A", open_pauses=[0.6]) == pytest.approx(1.2)   # a pause in the open turn
    pacing.heard("A", 4.0, [0.7])
    assert pacing.floor_s("A") == pytest.approx(1.4)
    pacing.heard("A", 30.0, [0.2] * 20)
    assert pacing.floor_s("A") == pytest.approx(1.4)                 # a long pause is not forgotten
    pacing.heard("A", 1.0, [1.2])
    assert pacing.floor_s("A") == 1.7                                # capped at least_end_s
    assert pacing.describe("A") == {"speech_s": 46.0, "longest_pause_s": 1.2, "floor_s": 1.7}
    same = Pacing(PacingOptions(fluent_end_s=1.7, least_end_s=1.7))
    same.heard("B", 60.0, [0.1])
    assert same.floor_s("B") == 1.7                                  # equal: the pace is not used
    with pytest.raises(ValueError):
        PacingOptions(fluent_end_s=2.0, least_end_s=1.7)


def test_only_the_pauses_the_words_did_not_keep_open_tell_a_partner_s_pace():
    from facilitator.turn_end.pacing import Pacing, PacingOptions, pace_pauses

    pacing = Pacing(PacingOptions(fluent_end_s=0.95, least_end_s=1.7))
    assert pacing.shelters(2.8) and pacing.shelters(1.7)      # "... when |": the words waited
    assert not pacing.shelters(0.7)                             # "... my parents. |": the floor did
    pauses, starts = [0.3, 1.4, 1.2], [2.0, 4.5, 7.0]
    assert pace_pauses(pauses, starts, {4.5}) == [0.3, 1.2]
    assert pace_pauses(pauses, starts, set()) == pauses
    assert pace_pauses(pauses, starts[:1], {2.0}) == [1.4, 1.2]   # a pause without its start counts
    pacing.heard("A", 8.0, pace_pauses(pauses, starts, {4.5, 7.0}), weighty=True)
    assert pacing.floor_s("A", weighty=True) == 0.95
    pacing.heard("A", 3.0, pace_pauses([1.1], [1.0], set()), weighty=True)
    assert pacing.floor_s("A", weighty=True) == 1.7
