"""Who spoke when in a recording made without the facilitator (facilitator/recorded/voices.py).

Dialogues of two espeak-ng voices are rendered once per module: short (0.2 s) and long
(1.5 s) gaps between turns, pauses of 0.9 s inside turns, one partner talking about three
quarters of the time, and one hand-over with no gap at all. Every scripted turn must get
the right speaker (A = the voice heard first, or the enrolled partner), pauses must not
split turns, and the gapless hand-over must be split where the voice changes.
"""

from __future__ import annotations

import numpy as np
import pytest

from facilitator.core import SAMPLE_RATE, to_float32

pytestmark = pytest.mark.e2e

PAUSE_S = 0.9          # "|" inside a line
# (speaker, text, gap after it in s); A talks most of the time
SCRIPT = [
    ("A", "I felt lonely last night when you stayed late at work. | I waited for you "
          "with dinner and nobody called.", 0.3),
    ("B", "What I hear you saying is that you felt lonely. Did I get that?", 0.25),
    ("A", "Yes, and there is more. | I also worried that something had happened to you, "
          "because you did not call me.", 1.5),
    ("B", "Is there more?", 0.2),
    ("A", "No, that is all, thank you for listening to me.", 0.0),     # B cuts straight in
    ("B", "So you worried because I did not call.", 0.6),
    ("A", "That is right, and I would love for us to talk about evenings like that one, "
          "| so that it does not happen again.", 0.4),
]
ENROLL_TEXT = {
    "A": "My day has been long but good. I walked to the market in the morning and then "
         "I worked on the garden until the evening came.",
    "B": "Today I read a book about the sea. Then I called my sister and we talked for "
         "an hour about her new job in the city.",
}


def _render(script, voices: dict[str, str]):
    """(audio, [(start, end, speaker)] of each line's sound) of a scripted dialogue."""
    from facilitator.sim.voices import speak_to_array

    parts, lines, t = [], [], 0.0
    for speaker, text, gap in script:
        phrases = [to_float32(speak_to_array(p.strip(), voices[speaker])) for p in text.split("|")]
        pause = np.zeros(int(PAUSE_S * SAMPLE_RATE), np.float32)
        audio = np.concatenate([x for p in phrases for x in (_trim(p), pause)][:-1])
        lines.append((t, t + audio.size / SAMPLE_RATE, speaker))
        parts += [audio, np.zeros(int(gap * SAMPLE_RATE), np.float32)]
        t += audio.size / SAMPLE_RATE + gap
    return np.concatenate(parts), lines


def _trim(audio: np.ndarray) -> np.ndarray:
    """espeak-ng's leading and trailing silence cut off (so a gap of 0 is none)."""
    loud = np.flatnonzero(np.abs(audio) > 0.01)
    return audio[loud[0]: loud[-1] + 1] if loud.size else audio


def _turns_of(lines):
    """The script's turns: lines of one speaker in a row are one turn."""
    turns = []
    for start, end, speaker in lines:
        if turns and turns[-1][2] == speaker:
            turns[-1] = (turns[-1][0], end, speaker)
        else:
            turns.append((start, end, speaker))
    return turns


def _check(found, lines, swap: bool = False):
    """Every scripted turn is one found turn, with the right speaker."""
    expected = _turns_of(lines)
    names = {"A": "B", "B": "A"} if swap else {"A": "A", "B": "B"}
    assert [t.speaker for t in found] == [names[s] for *_, s in expected], found
    for turn, (start, end, _) in zip(found, expected):
        assert turn.start <= start + 0.3 and turn.end >= end - 0.3, (turn, start, end)
        assert 0.0 <= turn.confidence <= 1.0
    for a, b in zip(found, found[1:]):
        assert a.end <= b.start + 1e-6, (a, b)


@pytest.fixture(scope="module")
def dialogue():
    return _render(SCRIPT, {"A": "en-us+m3", "B": "en-us+f4"})


@pytest.fixture(scope="module")
def samples():
    from facilitator.sim.voices import speak_to_array

    return {voice: to_float32(speak_to_array(ENROLL_TEXT[label], voice))
            for label, voice in (("A", "en-us+m3"), ("B", "en-us+f4"))}


def test_two_voices_without_enrollment(dialogue):
    from facilitator.recorded.voices import who_spoke

    audio, lines = dialogue
    talk = {s: sum(e - b for b, e, who in lines if who == s) for s in "AB"}
    assert talk["A"] / (talk["A"] + talk["B"]) > 0.7          # unequal talk time
    seen: list[float] = []
    who = who_spoke(audio, progress=seen.append)
    assert (who.voices, who.method, who.note) == (2, "clusters", None)
    _check(who.turns, lines)
    assert seen and seen[-1] == 1.0 and all(0.0 <= f <= 1.0 for f in seen)
    assert seen == sorted(seen)
    # the gapless hand-over (line 5 -> 6) is split where the voice changes
    change = lines[5][0]
    assert abs(who.turns[4].end - change) < 0.3, (who.turns[4], change)
    assert abs(who.turns[5].start - change) < 0.3, (who.turns[5], change)


def test_a_third_pair_of_voices_unequal_talk_time():
    from facilitator.recorded.voices import who_spoke

    script = [("B", "Hello, can we talk about the weekend?", 0.5),
              ("A", "Sure. | I was hoping we could visit my parents on Saturday, and then "
                    "rest on Sunday at home with a long breakfast.", 0.3),
              ("B", "Okay.", 0.8),
              ("A", "I know you find those visits tiring, | so we could leave early, "
                    "right after lunch, and take the long road home by the lake.", 0.2),
              ("B", "I would like that.", 0.0)]
    audio, lines = _render(script, {"A": "en-us+m7", "B": "en-gb+f2"})
    who = who_spoke(audio)
    assert who.voices == 2
    _check(who.turns, lines, swap=True)          # B spoke first, so B's voice is "A"


def test_one_voice(dialogue):
    from facilitator.recorded.voices import ONE_VOICE_NOTE, who_spoke

    script = [("A", text, 0.6) for _, text, _ in SCRIPT[:4]]
    audio, _ = _render(script, {"A": "en-us+m3"})
    who = who_spoke(audio)
    assert (who.voices, who.note) == (1, ONE_VOICE_NOTE)
    assert who.turns and {t.speaker for t in who.turns} == {"A"}


@pytest.mark.parametrize("kind", ["silence", "noise"])
def test_no_speech(kind):
    from facilitator.recorded.voices import NO_SPEECH_NOTE, who_spoke

    rng = np.random.default_rng(3)
    audio = np.zeros(8 * SAMPLE_RATE, np.float32)
    if kind == "noise":
        white = rng.standard_normal(audio.size).astype(np.float32)
        hum = np.sin(2 * np.pi * 120 * np.arange(audio.size) / SAMPLE_RATE).astype(np.float32)
        audio = 0.05 * white + 0.05 * hum
    who = who_spoke(audio)
    assert (who.turns, who.voices, who.note) == ([], 0, NO_SPEECH_NOTE)


def test_enrolled_voices(dialogue, samples):
    from facilitator.recorded.voices import who_spoke

    audio, lines = dialogue
    who = who_spoke(audio, enrolled={"A": samples["en-us+m3"], "B": samples["en-us+f4"]})
    assert (who.voices, who.method) == (2, "enrolled")
    _check(who.turns, lines)
    # enrolled the other way round: the labels follow the enrollment, not who spoke first
    swapped = who_spoke(audio, enrolled={"A": samples["en-us+f4"], "B": samples["en-us+m3"]})
    _check(swapped.turns, lines, swap=True)


def test_unusable_enrollment(dialogue, samples):
    from facilitator.recorded.voices import VoicesError, who_spoke

    audio, _ = dialogue
    with pytest.raises(VoicesError, match="partner B"):
        who_spoke(audio[: 4 * SAMPLE_RATE], enrolled={"A": samples["en-us+m3"],
                                                      "B": np.zeros(SAMPLE_RATE, np.float32)})


def test_two_microphones(dialogue):
    from facilitator.recorded.voices import who_spoke

    audio, lines = dialogue
    stereo = np.zeros((audio.size, 2), np.float32)
    for start, end, speaker in lines:
        lo, hi = int(start * SAMPLE_RATE), int(end * SAMPLE_RATE)
        near, far = (0, 1) if speaker == "A" else (1, 0)
        stereo[lo:hi, near] = audio[lo:hi]
        stereo[lo:hi, far] = 0.25 * audio[lo:hi]           # the other microphone hears it too
    stereo[:, 1] *= 0.5                                     # and is less sensitive
    stereo += 0.002 * np.random.default_rng(1).standard_normal(stereo.shape).astype(np.float32)
    who = who_spoke(stereo)
    assert (who.voices, who.method) == (2, "channels")
    _check(who.turns, lines)
    # the same channel twice is one microphone: decided by the voices
    same = who_spoke(np.stack([audio, audio], axis=1))
    assert same.method == "clusters"
    _check(same.turns, lines)


def test_a_noisy_reverberant_room(dialogue):
    from facilitator.recorded.voices import who_spoke
    from facilitator.sim.mixing import room

    audio, lines = dialogue
    noisy = room(audio, np.random.default_rng(0), snr_db=12.0, rt60=0.4).astype(np.float32)
    who = who_spoke(noisy)
    assert (who.voices, who.method) == (2, "clusters")
    assert [t.speaker for t in who.turns] == [s for *_, s in _turns_of(lines)], who.turns
