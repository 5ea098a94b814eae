"""The speaker room as the live loop uses it: hand-over points, the enrollment conversation,
and the set-up from recordings, saved profiles or a live enrollment."""

from __future__ import annotations

import numpy as np
import pytest

from facilitator import prompts
from facilitator.core import Finished, HeardTurn
from facilitator.speakers.identify import Segment
from facilitator.speakers.live import (
    SpeakerSetupError, TurnOrder, VoiceEnrollment, find_handover, prepare,
)
from facilitator.speakers.options import SpeakersOptions
from facilitator.sim.voices import speak_to_array

SPEAKER_PROMPTS = prompts.common()["speakers"]
NAMES = {"A": "Alex", "B": "Sam"}
LONG_A = ("My day was busy. I went for a run in the morning, then I worked on the garden "
          "and cooked a big pot of soup for the week. Now I am glad to sit down.")
LONG_B = ("My day was good but long. I had meetings all morning, I walked the dog at lunch, "
          "and in the afternoon I finally finished the report I had been writing.")


@pytest.fixture(scope="module")
def voices():
    return {"A": speak_to_array(LONG_A, "en-us"), "B": speak_to_array(LONG_B, "en-us+f3")}


def test_handover_needs_one_voice_then_the_other_each_long_enough():
    assert find_handover([Segment(0.0, 3.0, "A"), Segment(3.0, 6.0, "B")], 1.5) == 3.0
    # a short stretch of the other voice in the middle is no hand-over
    assert find_handover([Segment(0.0, 3.0, "A"), Segment(3.0, 4.0, "B"), Segment(4.0, 7.0, "A")], 1.5) is None
    # too short on one side
    assert find_handover([Segment(0.0, 1.0, "A"), Segment(1.0, 6.0, "B")], 1.5) is None
    # blips under 0.3 s and unknown stretches are ignored
    assert find_handover([Segment(0.0, 2.0, "A"), Segment(2.0, 2.2, "B"), Segment(2.2, 4.0, "A"),
                          Segment(4.0, 4.5, None), Segment(4.5, 7.0, "B")], 1.5) == 4.5
    assert find_handover([Segment(0.0, 5.0, "A")], 1.5) is None


def test_enrollment_conversation_adds_up_short_answers_and_gives_up_after_the_tries(voices):
    from facilitator.speakers.backends import make_backend

    options = SpeakersOptions(enroll_max_tries=2)
    enrollment = VoiceEnrollment(NAMES, options, make_backend("gmm"), SPEAKER_PROMPTS)
    assert [s.key for s in enrollment.start()] == ["enroll_ask_first"]
    assert "Alex" in enrollment.start()[0].text and enrollment.step == "enroll_A"
    half = len(voices["A"]) // 2
    actions, event = enrollment.heard(voices["A"][:half])
    assert (event["ok"], event["problem"]) == (False, "too short")
    assert [a.key for a in actions] == ["enroll_again_too_short"]
    actions, event = enrollment.heard(voices["A"][half:])     # the two halves add up
    assert event["ok"] and "A" in enrollment.profiles
    assert [a.key for a in actions] == ["enroll_ask"] and "Sam" in actions[0].text
    assert enrollment.speaker == "B"
    note, *says = enrollment.on_silence()          # the conversation protocol: a note, then says
    assert note.type == "enrollment" and note.fields["problem"] == "silent"
    assert [a.key for a in says] == ["enroll_again_silent"]
    assert enrollment.expectation.speaker == "B" and not enrollment.expectation.judged
    learnt = []
    enrollment.on_learnt = lambda e: learnt.append(e) or "turn_order"
    note, say, speakers, finished = enrollment.on_turn(HeardTurn("", np.zeros(16000 * 3, np.int16)))
    assert note.fields["gave_up"] and enrollment.finished and enrollment.failed == ["B"]
    assert say.key == "enroll_failed" and "Sam" in say.text
    assert learnt == [enrollment] and speakers.type == "speakers"
    assert speakers.fields["enrolled"] == ["A"] and speakers.fields["failed"] == ["B"]
    assert isinstance(finished, Finished) and finished.reason == "enrolled"


def test_setup_from_recordings_saved_profiles_or_a_live_enrollment(tmp_path, voices):
    import wave

    def wav(name, audio):
        path = tmp_path / name
        with wave.open(str(path), "wb") as handle:
            handle.setnchannels(1), handle.setsampwidth(2), handle.setframerate(16000)
            handle.writeframes(np.asarray(audio, np.int16).tobytes())
        return path

    options = SpeakersOptions(method="gmm")   # the voices below are learnt with the GMM
    assert isinstance(prepare(SpeakersOptions(method="turn_order"), NAMES, SPEAKER_PROMPTS).attributor,
                      TurnOrder)
    live = prepare(options, NAMES, SPEAKER_PROMPTS, profiles_dir=tmp_path / "none")
    assert live.enrollment is not None and isinstance(live.attributor, TurnOrder)

    files = {"A": wav("a.wav", voices["A"]), "B": wav("b.wav", voices["B"])}
    ready = prepare(options, NAMES, SPEAKER_PROMPTS, enroll_files=files)
    assert ready.enrollment is None and ready.attributor.method == "voice"
    who = ready.attributor.decide(voices["B"][: 16000 * 3], None, "A")
    assert who.speaker == "B" and who.confidence > 0.9 and who.method == "voice"

    with pytest.raises(SpeakerSetupError, match="both partners"):
        prepare(options, NAMES, SPEAKER_PROMPTS, enroll_files={"A": files["A"]})
    with pytest.raises(SpeakerSetupError, match="too little clean speech"):
        prepare(options, NAMES, SPEAKER_PROMPTS,
                enroll_files={"A": wav("short.wav", voices["A"][:16000]), "B": files["B"]})

    from facilitator.speakers.enrollment import save_profiles

    saved = tmp_path / "voices"
    save_profiles(ready.attributor.identifier.profiles, saved)
    saving = SpeakersOptions(method="gmm", save_profiles=True)
    kept = prepare(saving, NAMES, SPEAKER_PROMPTS, profiles_dir=saved)
    assert kept.enrollment is None and [s.key for s in kept.greeting] == ["enroll_welcome_back"]
    # other names: the saved voices are not theirs, so they are asked
    other = prepare(saving, {"A": "Kim", "B": "Lee"}, SPEAKER_PROMPTS, profiles_dir=saved)
    assert other.enrollment is not None
    # not opted in: saved voices are not used
    assert prepare(options, NAMES, SPEAKER_PROMPTS, profiles_dir=saved).enrollment is not None
