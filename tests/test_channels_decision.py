"""Two microphones: whose turn a stereo stretch is, when the other partner talks over it.

The turn's owner speaks about 6 s; the other partner talks over 1.5 s of the middle,
6 dB louder. The mics sit in the hard corner of the benchmark's set (c): crosstalk
-3 dB and the owner's mic 10 dB less sensitive, so the owner's voice is louder on the
other partner's mic than on their own and the unmixing is ill-conditioned. During the
turn the owner's channel ratio is 1 dB off what enrollment measured (a turned head, a
nudged mic): unmixing then leaves a phantom of the other partner under all of the
owner's speech. Counting the frames where each partner is merely *active* gave such
turns to the interrupter (the phantom ties the owner everywhere, and the loud interrupter
masks the owner for 1.5 s); the owner is the one whose voice *dominates* more of the turn,
and who holds its start and end.

Voices are espeak-ng's en-us and en-us+f3; profiles carry only the channel levels, measured
as enrollment measures them (`channel_powers_when_voiced`), so no voice model is needed.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from facilitator.speakers import ChannelAttributor
from facilitator.speakers.audio import SAMPLE_RATE, voiced_mask
from facilitator.speakers.channels import channel_powers_when_voiced
from facilitator.speakers.enrollment import VoiceProfile
from facilitator.speakers.identify import Attribution
from facilitator.sim.mixing import SENTENCES, espeak, set_level, stereo_mix

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")

VOICES = {"A": "en-us", "B": "en-us+f3"}
MICS = {"crosstalk_db": -3.0, "gain_a_db": -10.0, "gain_b_db": 0.0, "rt60": 0.4}
OWNER = ("When you came home late", "I felt lonely", "and a bit scared",
         "and I did not know why")


def level_profiles(rng: np.random.Generator) -> dict[str, VoiceProfile]:
    """Each partner enrolled alone on the two mics: only the channel levels are kept."""
    profiles = {}
    for label, voice in VOICES.items():
        dry = np.concatenate([set_level(espeak(SENTENCES[n], voice), -26) for n in (0, 1, 2)])
        silent = np.zeros_like(dry)
        stereo = stereo_mix(*((dry, silent) if label == "A" else (silent, dry)), rng=rng, **MICS)
        profiles[label] = VoiceProfile(label, f"Partner {label}", "levels", {},
                                       channel_power=channel_powers_when_voiced(
                                           stereo, voiced_mask(dry)))
    return profiles


@pytest.mark.parametrize("seed", [2, 3, 6])
def test_loud_interrupter_over_the_middle_does_not_take_the_turn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    channels = ChannelAttributor(level_profiles(rng))
    own = set_level(np.concatenate([espeak(text, VOICES["A"]) for text in OWNER]), -26)
    assert 5.0 < own.size / SAMPLE_RATE < 7.0
    n = int(1.5 * SAMPLE_RATE)
    start = own.size // 2 - n // 2
    other = np.zeros_like(own)
    other[start:start + n] = set_level(espeak(SENTENCES[8], VOICES["B"]), -20)[:n]
    turn_mics = {**MICS, "gain_a_db": MICS["gain_a_db"] - 1.0}   # 1 dB off the enrollment

    alone = stereo_mix(own, np.zeros_like(own), rng=rng, **turn_mics)
    assert channels.attribute(alone).speaker == "A"
    talked_over = stereo_mix(own, other, rng=rng, **turn_mics)
    assert channels.attribute(talked_over).speaker == "A"
    # the interrupter is still heard as one
    found = channels.interruptions(talked_over, "A")
    assert any(i.speaker == "B" and i.start < (start + n) / SAMPLE_RATE
               and i.end > start / SAMPLE_RATE for i in found), found


class StubVoice:
    """Stands in for the voice identifier: always names `speaker` with `confidence`, and
    counts how often it was asked."""

    def __init__(self, speaker: str, confidence: float) -> None:
        self.speaker, self.confidence, self.asked = speaker, confidence, 0

    def attribute(self, audio: np.ndarray, expected: str | None = None) -> Attribution:
        assert audio.ndim == 1                   # the two channels, mixed
        self.asked += 1
        return Attribution(self.speaker, self.confidence)


@pytest.mark.parametrize("confidence, expected", [(0.99, "B"), (0.9, "A")])
def test_on_poorly_separating_mics_a_sure_voice_overrules_the_levels(
        confidence: float, expected: str) -> None:
    rng = np.random.default_rng(4)
    profiles = level_profiles(rng)
    voice = StubVoice("B", confidence)
    channels = ChannelAttributor(profiles, fallback=voice)
    assert channels.levels_doubtful                  # -3 dB crosstalk against 10 dB of gain
    own = set_level(np.concatenate([espeak(text, VOICES["A"]) for text in OWNER]), -26)
    stereo = stereo_mix(own, np.zeros_like(own), rng=rng, **MICS)
    att = channels.attribute(stereo, "A")
    assert voice.asked == 1
    assert att.speaker == expected
    assert att.method == ("channels+voice" if expected == "B" else "channels")


def test_on_well_separating_mics_the_levels_decide_alone() -> None:
    rng = np.random.default_rng(5)
    mics = {"crosstalk_db": -12.0, "gain_a_db": 0.0, "gain_b_db": 0.0, "rt60": 0.4}
    profiles = {}
    for label, voice_name in VOICES.items():
        dry = np.concatenate([set_level(espeak(SENTENCES[n], voice_name), -26) for n in (0, 1)])
        silent = np.zeros_like(dry)
        stereo = stereo_mix(*((dry, silent) if label == "A" else (silent, dry)), rng=rng, **mics)
        profiles[label] = VoiceProfile(label, label, "levels", {}, channel_power=
                                       channel_powers_when_voiced(stereo, voiced_mask(dry)))
    voice = StubVoice("B", 0.99)
    channels = ChannelAttributor(profiles, fallback=voice)
    assert not channels.levels_doubtful
    own = set_level(espeak(SENTENCES[4], VOICES["A"]), -26)
    att = channels.attribute(stereo_mix(own, np.zeros_like(own), rng=rng, **mics))
    assert (att.speaker, att.method, voice.asked) == ("A", "channels", 0)
