"""Each part of the live loop alone, with fakes: milliseconds each."""

from __future__ import annotations

import numpy as np

from facilitator.core import Expectation, Say
from facilitator.events import Control
from facilitator.judging import PASSING_LABELS
from facilitator.loop.attribution import Attribution
from facilitator.loop.controls import control_outcome
from facilitator.loop.listening import Listening
from facilitator.loop.moderation import moderate
from facilitator.loop.speaking import Speaking
from facilitator.sim.fakes import FakeAttributor, NullVoice
from facilitator.speakers.identify import Interruption
from facilitator.speakers.live import WhoSpoke
from facilitator.transcribe import Transcript

NAMES = {"A": "Alex", "B": "Sam"}
SPEAKER_PROMPTS = {"wrong_speaker": "{speaker}, it is {owner}'s turn.",
                   "interruption": "{speaker}, please let {owner} finish."}
PROMPTS = {"stopped": "Goodbye.", "paused": "Paused.", "resumed": "Resumed.",
           "nothing_to_repeat": "Nothing yet.", "skipped": "Skipped."}
MIRROR = Expectation("mirror", "receiver", "B", ["did i get that"])


def test_moderation_reminds_the_wrong_partner_twice_then_takes_the_turn():
    wrong = WhoSpoke("A", 0.95, "voice")
    first = moderate(wrong, MIRROR, NAMES, 0, 0.8, SPEAKER_PROMPTS, 10.0, (10.2, 12.0))
    assert not first.take and first.wrong_in_a_row == 1
    assert first.notes[0].fields == {"speaker": "A", "start": 10.2, "end": 12.0,
                                     "kind": "wrong_speaker", "step": "mirror"}
    assert first.says == [Say("Alex, it is Sam's turn.", "wrong_speaker")]
    assert not moderate(wrong, MIRROR, NAMES, 1, 0.8, SPEAKER_PROMPTS, 0, (0, 1)).take
    third = moderate(wrong, MIRROR, NAMES, 2, 0.8, SPEAKER_PROMPTS, 0, (0, 1))
    assert third.take and third.wrong_in_a_row == 0
    unsure = WhoSpoke("A", 0.6, "voice")
    assert moderate(unsure, MIRROR, NAMES, 0, 0.8, SPEAKER_PROMPTS, 0, (0, 1)).take


def test_moderation_records_talk_over_at_session_time_and_reminds_once():
    who = WhoSpoke("B", 0.9, "voice", interruptions=[Interruption(1.0, 2.0, "A"),
                                                    Interruption(3.0, 4.5, "A")])
    out = moderate(who, MIRROR, NAMES, 0, 0.8, SPEAKER_PROMPTS, 100.0, (100.3, 105.0))
    assert out.take
    assert [(n.fields["start"], n.fields["end"]) for n in out.notes] == [(101.0, 102.0), (103.0, 104.5)]
    assert [s.key for s in out.says] == ["interruption"]


def test_controls_are_pure_outcomes():
    def outcome(action, paused=False, last="Please mirror.", detail=None):
        return control_outcome(Control(action, "coach", detail), paused, last, PROMPTS,
                               PASSING_LABELS)

    assert outcome("stop").stop and outcome("stop").says[0].key == "stopped"
    assert outcome("pause").paused and not outcome("resume", paused=True).paused
    assert [s.key for s in outcome("resume", paused=True).says] == ["resumed", "repeat"]
    assert outcome("repeat").says == [Say("Please mirror.", "repeat")]
    assert outcome("repeat", last=None).says[0].key == "nothing_to_repeat"
    assert outcome("skip").skip
    marked = outcome("override", detail={"kind": "mirror", "label": "mirror"})
    assert marked.override is True and marked.notes[0].type == "override"
    assert outcome("override", detail={"kind": "mirror", "label": "partial"}).override is False


class Turn:
    def __init__(self, seconds: float):
        self.start, self.speech_end, self.voiced_ms = 0.0, seconds, int(seconds * 1000)
        self._audio = np.ones(int(seconds * 16000), np.int16)

    def audio(self):
        return self._audio

    def stereo(self):
        return None


class CountingWords:
    def __init__(self):
        self.pieces = []

    def transcribe(self, audio, context=""):
        self.pieces.append(len(audio) / 16000)
        return Transcript(f"w{len(self.pieces)}")


def test_listening_keeps_stretches_of_three_seconds_and_reads_only_what_is_new():
    words = CountingWords()
    listening = Listening(words)
    listening.begin(0.0)
    assert listening.transcribe_so_far(Turn(1.0)) and listening.open.text == "w1"
    assert not listening.transcribe_so_far(Turn(1.0))             # nothing new since
    listening.transcribe_so_far(Turn(3.5))                          # 3.5 s: kept as it is
    assert listening.open.committed_text == "w2"
    listening.transcribe_so_far(Turn(5.0))                          # only what came after
    assert words.pieces[-1] < 2.0 and listening.open.text == "w2 w3"
    assert listening.close().text == "w2 w3" and listening.open is None


def test_attribution_uses_the_early_answer_and_falls_back_on_failure():
    errors = []
    fake = FakeAttributor([WhoSpoke("B", 0.9, "voice")])
    attribution = Attribution(fake, on_error=errors.append)
    attribution.start_early(Turn(2.0), "B")
    assert attribution.decide_turn(Turn(2.0), "B").speaker == "B"
    assert len(fake.calls) == 1                                     # not decided twice
    broken = Attribution(FakeAttributor(raises=ValueError("bad")), on_error=errors.append)
    who = broken.decide_turn(Turn(2.0), "A")
    assert (who.speaker, who.method) == ("A", "turn_order") and "turn order" in errors[0]
    attribution.close(), broken.close()


def test_speaking_mutes_the_input_for_the_prompt_and_keeps_the_last_one():
    records, signals = [], []
    speaking = Speaking(NullVoice(1.5), lambda kind, **f: records.append((kind, f)),
                        signals.append, 0.25, {"paused"})
    speaking.queue("Please mirror.", "mirror")
    speaking.queue("Paused.", "paused")
    assert speaking.speak_pending(lambda: 10.0)
    assert [r[1]["key"] for r in records] == ["mirror", "paused"]
    assert speaking.mute_until == 10.0 + 1.5 + 0.25
    assert speaking.last_prompt == "Please mirror."                 # "paused" is not repeated
    assert len(signals) == 2 and not speaking.speak_pending(lambda: 11.0)


def test_words_read_at_a_short_silence_are_kept_only_once_the_pause_lasts():
    words = CountingWords()
    listening = Listening(words)
    listening.begin(0.0)
    listening.transcribe_so_far(Turn(3.5), settled=False)          # a 60 ms breath in a cue step
    assert listening.open.committed_text == "" and listening.open.text == "w1"
    listening.settle(Turn(4.0))                                     # more speech since: not that pause
    assert listening.open.committed_text == ""
    listening.settle(Turn(3.5))                                     # the same pause went on
    assert listening.open.committed_text == "w1" and listening.open.pending_text == ""
    listening.transcribe_so_far(Turn(11.0), settled=False)          # 7.5 s unkept is too long: kept
    assert listening.open.committed_text == "w1 w2"


def test_the_last_moment_of_a_turn_is_read_alone_and_leaves_the_open_words_as_they_were():
    words = CountingWords()
    listening = Listening(words)
    listening.begin(0.0)
    listening.transcribe_so_far(Turn(4.0))
    assert listening.last_words_alone(Turn(4.0).audio(), 4.0, 1.0) == "w2"
    assert words.pieces[-1] == 1.0                                  # the last second only
    assert listening.last_words_alone(Turn(0.5).audio(), 0.5, 1.0) == "w3" and words.pieces[-1] == 0.5
    assert listening.open.text == "w1"                              # the turn's words unchanged
