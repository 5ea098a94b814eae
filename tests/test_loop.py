"""The live loop's behaviours, with fakes for every room (no Whisper, no espeak, no voices):
the turns are synthetic voiced sounds, their words come from `FakeTranscriber`, who spoke
from `FakeAttributor`. Each test runs the real loop and its real collaborators."""

from __future__ import annotations

import numpy as np
import pytest

from facilitator.app import _assemble
from facilitator.config import Config
from facilitator.core import SAMPLE_RATE
from facilitator.dialogue import Dialogue, Script
from facilitator.events import Control, ControlQueue, EventBus, as_dict
from facilitator.judging import Verdict
from facilitator.sim.fakes import BLOCK, ArraySource, FakeAttributor, FakeTranscriber, NullVoice, ToneLines
from facilitator.transcribe import Transcript
from facilitator.speakers.identify import Interruption
from facilitator.speakers.live import SpeakerSetup, WhoSpoke

NAMES = {"A": "Alex", "B": "Sam"}
OPENING = ["Sam, I would like to have a dialogue. Is now a good time?",   # appointment (A)
           "Yes, I'm ready now.",                                         # availability (B)
           "I felt lonely last week when you worked late every night."]   # send (A)


class PassingJudge:
    def __init__(self):
        self.calls = []

    def judge(self, kind, context, reply):
        self.calls.append((kind, reply))
        return Verdict(kind, {"mirror": "mirror", "summary": "complete", "validation": "valid",
                              "empathy": "empathic"}.get(kind, "safe"), 0.9)


def run(texts, attributor=None, config=None, controls=None, gap_s=3.0, time_offset=0.0,
        tail_s=0.0, on_frame=None, enrollment=None):
    lines = ToneLines()
    audio = lines.conversation(texts, gap_s=gap_s)
    audio = np.concatenate([audio, np.zeros(int(tail_s * SAMPLE_RATE), np.int16)])
    events: list[dict] = []
    bus = EventBus()
    bus.subscribe(lambda event: events.append(as_dict(event)))
    bus.subscribe_signals(lambda event: events.append(as_dict(event)))
    config = config or Config()
    dialogue = Dialogue(Script.load("intentional_dialogue"), NAMES)
    voice = NullVoice()
    controls = controls or ControlQueue()
    speakers = SpeakerSetup(attributor or FakeAttributor(), enrollment)
    session = _assemble(config, ArraySource(audio, on_frame), bus, controls, NAMES,
                        FakeTranscriber(lines), PassingJudge(), voice, dialogue, None, speakers,
                        False, lambda e: attributor, time_offset, None)
    reason = session.run()
    return reason, events, voice


def of(events, kind):
    return [e for e in events if e["type"] == kind]


def test_turns_flow_through_the_dialogue_and_are_recorded():
    reason, events, voice = run(OPENING)
    assert reason == "input_end"
    turns = of(events, "turn")
    assert [t["step"] for t in turns] == ["appointment", "availability", "send"]
    assert [t["text"] for t in turns] == OPENING
    assert [s["name"] for s in of(events, "step")][:4] == ["appointment", "availability", "send", "mirror"]
    assert of(events, "verdict")[0]["kind"] == "sender_statement"
    assert events[-1] == {**events[-1], "type": "end", "reason": "input_end"}
    assert voice.said and not [e for e in events if e["type"].startswith("_") and e in of(events, "turn")]


def test_a_cue_ends_the_turn_without_the_long_pause():
    texts = OPENING + ["What I hear you saying is you felt lonely. Did I get that?"]
    _, events, _ = run(texts)
    mirror = [t for t in of(events, "turn") if t["step"] == "mirror"]
    assert mirror and mirror[0]["end_reason"] == "cue"
    assert of(events, "verdict")[-1]["kind"] == "mirror"


def test_the_wrong_partner_is_reminded_twice_then_taken():
    wrong = [WhoSpoke("B", 0.97, "voice")] * 3
    answers = [WhoSpoke("A", 0.95, "voice")] + wrong
    texts = [OPENING[0], "I am A speaking again.", "I am still the one speaking.", "I am speaking once more."]
    _, events, voice = run(texts, attributor=FakeAttributor(list(answers)))
    interruptions = of(events, "interruption")
    assert [i["kind"] for i in interruptions] == ["wrong_speaker", "wrong_speaker"]
    assert sum("it is Sam's turn" in s or "Sam" in s and "turn" in s for s in voice.said) >= 1
    steps = [s["name"] for s in of(events, "step")]
    assert steps.count("availability") == 1 and "send" in steps      # the third one was taken


def test_talking_over_a_turn_is_recorded_and_the_owner_reminded():
    over = WhoSpoke("A", 0.9, "voice", interruptions=[Interruption(1.0, 2.2, "B")])
    _, events, voice = run(OPENING[:1], attributor=FakeAttributor([over]))
    (event,) = of(events, "interruption")
    turn = of(events, "turn")[0]
    assert event["kind"] == "talk_over" and event["speaker"] == "B"
    assert event["start"] > turn["start"] - 0.5
    assert any(p["key"] == "interruption" for p in of(events, "prompt"))


def test_one_voice_straight_after_the_other_is_split_into_two_turns():
    both = WhoSpoke("A", 0.9, "voice", handover=1.5)
    answers = [both, WhoSpoke("A", 0.9, "voice"), WhoSpoke("B", 0.9, "voice")]
    _, events, _ = run(["Sam, is now a good time to talk together about it?"],
                       attributor=FakeAttributor(answers))
    turns = of(events, "turn")
    assert len(turns) == 2 and turns[0]["end_reason"] == "handover"
    assert [t["speaker"] for t in turns] == ["A", "B"]
    assert turns[0]["end"] == pytest.approx(turns[1]["start"])


def test_voice_commands_pause_resume_repeat_stop():
    texts = [OPENING[0], "pause", "this is not judged while paused", "resume", "repeat that", "stop"]
    reason, events, voice = run(texts)
    controls = [c["action"] for c in of(events, "control")]
    assert controls == ["pause", "resume", "repeat", "stop"]
    assert reason == "stopped" and events[-1]["reason"] == "stopped"
    paused_turn = [t for t in of(events, "turn") if t["text"].startswith("this is not")]
    assert paused_turn and not [v for v in of(events, "verdict") if "not judged" in str(v)]
    keys = [p["key"] for p in of(events, "prompt")]
    assert keys.count("repeat") == 2 and "stopped" in keys


def test_coach_controls_skip_and_override():
    controls = ControlQueue()
    sent = []

    def click(t):
        if t > 2.0 and not sent:
            sent.append(t)
            controls.put(Control("skip", source="coach"))

    _, events, _ = run(OPENING[:1], controls=controls, on_frame=click)
    assert of(events, "control")[0] == {**of(events, "control")[0], "action": "skip", "source": "coach"}
    assert any(p["key"] == "skipped" for p in of(events, "prompt"))


def test_a_long_silence_gets_a_gentle_reminder():
    config = Config()
    _, events, _ = run([OPENING[0]], config=config, tail_s=config.turns.silence_reprompt_s + 5)
    assert any(p["key"] == "silence_reminder" for p in of(events, "prompt"))


def test_a_resumed_session_goes_on_after_its_record_s_last_time():
    _, events, _ = run(OPENING[:1], time_offset=100.0)
    turn = of(events, "turn")[0]
    assert all(e["t"] >= 100.0 for e in events if not e["type"].startswith("_"))
    assert turn["start"] >= 100.0 and turn["end"] > turn["start"]


def test_a_failure_in_who_spoke_falls_back_to_turn_order_and_goes_on():
    broken = FakeAttributor(raises=IndexError("index 98 is out of bounds for axis 0 with size 89"))
    reason, events, _ = run(OPENING[:2], attributor=broken)
    turns, errors = of(events, "turn"), of(events, "error")
    assert reason == "input_end" and len(turns) == 2
    assert all(t["speaker_method"] == "turn_order" for t in turns)
    assert len(errors) == 2 and "turn order" in errors[0]["message"]


def test_a_crash_elsewhere_in_the_loop_is_an_error_event_and_an_end(monkeypatch):
    monkeypatch.setattr(FakeTranscriber, "transcribe",
                        lambda self, audio, context="": (_ for _ in ()).throw(RuntimeError("boom")))
    reason, events, _ = run(OPENING[:1])
    assert reason == "error"
    assert of(events, "error")[0]["message"].startswith("internal error")
    assert events[-1] == {**events[-1], "type": "end", "reason": "error"}


def test_early_who_spoke_in_a_long_turn_is_spaced_out_not_at_every_pause():
    from facilitator.loop.attribution import worth_deciding_again

    assert worth_deciding_again(8.0, 0.5)              # short turns: at every pause
    assert not worth_deciding_again(60.0, 4.0)         # a monologue: not every 4 s ...
    assert worth_deciding_again(60.0, 15.0)            # ... but as it grows by a share
    decided, decisions = 0.0, 0
    for length in range(4, 601, 4):                    # 10 minutes, a pause every 4 s
        if worth_deciding_again(length, length - decided):
            decided, decisions = length, decisions + 1
    assert decisions < 25                              # at every pause it would be 150


def _mirror_after_opening(mirror_parts: list[str], gap_inside_s: float):
    """The opening, then a mirror spoken as `mirror_parts` with `gap_inside_s` between them."""
    lines = ToneLines()
    audio = [lines.conversation(OPENING)]
    for index, part in enumerate(mirror_parts):
        audio.append(lines.line(part))
        gap = gap_inside_s if index < len(mirror_parts) - 1 else 4.0
        audio.append(np.zeros(int(gap * SAMPLE_RATE), np.int16))
    return lines, np.concatenate(audio)


def _run_audio(lines, audio, config=None, transcriber=FakeTranscriber):
    events: list[dict] = []
    bus = EventBus()
    bus.subscribe(lambda event: events.append(as_dict(event)))
    bus.subscribe_signals(lambda event: events.append(as_dict(event)))
    dialogue = Dialogue(Script.load("intentional_dialogue"), NAMES)
    session = _assemble(config or Config(), ArraySource(audio), bus, ControlQueue(), NAMES,
                        transcriber(lines), PassingJudge(), NullVoice(), dialogue, None,
                        SpeakerSetup(FakeAttributor(), None), False, lambda e: None, 0.0, None)
    session.run()
    return events


def test_a_cue_is_heard_as_it_is_said_and_ends_the_turn_a_short_silence_later():
    config = Config()
    turns = config.turns
    assert turns.cue_read_ms < turns.cue_end_ms < turns.pause_ms
    lines, audio = _mirror_after_opening(["What I hear you saying is you felt lonely. Did I get that?"], 0)
    events = _run_audio(lines, audio, config)
    mirror = [t for t in of(events, "turn") if t["step"] == "mirror"][0]
    assert mirror["end_reason"] == "cue"
    frame_s = turns.frame_ms / 1000
    hangover = mirror["t"] - mirror["end"]
    assert hangover <= turns.cue_end_ms / 1000 + frame_s + 1e-6     # not the 180 ms pause
    # with the old reading (words read only at `pause_ms`) the same turn ends later
    slow = config.with_changes(turns={"cue_read_ms": turns.pause_ms, "cue_end_ms": turns.pause_ms})
    slow_mirror = [t for t in of(_run_audio(*_mirror_after_opening(
        ["What I hear you saying is you felt lonely. Did I get that?"], 0), slow), "turn")
        if t["step"] == "mirror"][0]
    assert slow_mirror["t"] - slow_mirror["end"] >= turns.pause_ms / 1000 - 1e-6 > hangover


def test_a_cue_inside_a_longer_sentence_does_not_end_the_turn():
    # "... did I get that" -- a breath shorter than cue_end_ms -- "wrong, before, when we talked"
    parts = ["What I hear you saying is you felt lonely. I wonder, did I get that",
             "wrong before, when we talked about the holidays."]
    lines, audio = _mirror_after_opening(parts, gap_inside_s=0.085)
    events = _run_audio(lines, audio)
    read_mid_sentence = [p for p in of(events, "_partial") if p["text"].endswith("did I get that")]
    assert read_mid_sentence, "the words were not read at the short silence"
    mirror = [t for t in of(events, "turn") if t["step"] == "mirror"]
    assert len(mirror) == 1 and mirror[0]["end_reason"] != "cue"
    assert mirror[0]["text"].endswith("about the holidays.")


def _send_turn(events):
    return [t for t in of(events, "turn") if t["step"] == "send"][0]


def test_a_decided_wait_ends_a_finished_thought_sooner_and_a_failing_one_falls_back(monkeypatch):
    from facilitator import app

    asked = []

    def wait_for(text, step, audio, speech_end_s):
        asked.append((text, step, len(audio), speech_end_s))
        return 0.9

    monkeypatch.setattr(app, "thought_end", lambda config: wait_for)
    lines = ToneLines()
    quick = Config().with_changes(turns={"least_end_s": 0.9, "fluent_end_s": 0.9})
    events = _run_audio(lines, lines.conversation(OPENING), quick)
    send = _send_turn(events)
    assert send["end_reason"] == "complete" and 0.9 <= send["t"] - send["end"] < 1.0
    assert (OPENING[2], "send") in [(text, step) for text, step, _, _ in asked]
    assert all(n > 0 and 0 < end <= n / SAMPLE_RATE for _, _, n, end in asked)

    def broken(*args):
        raise RuntimeError("model fell over")

    monkeypatch.setattr(app, "thought_end", lambda config: broken)
    lines = ToneLines()
    send = _send_turn(_run_audio(lines, lines.conversation(OPENING)))
    assert send["end_reason"] == "complete"
    assert send["t"] - send["end"] >= Config().turns.complete_end_s - 1e-6   # the fixed wait


def test_end_model_words_is_the_default_and_never_waits_less_than_a_mid_thought_pause():
    from facilitator import app

    config = Config()
    assert config.turns.end_model == "words"
    wait_for = app.thought_end(config)
    assert wait_for is not None
    assert app.thought_end(config.with_changes(turns={"end_model": "fixed"})) is None
    silence = np.zeros(SAMPLE_RATE, np.int16)
    finished = wait_for("I felt lonely last week when you worked late every night.", "send", silence, 1.0)
    open_ = wait_for("I felt lonely last week when you", "send", silence, 1.0)
    assert 1.5 < config.turns.least_end_s and config.turns.fluent_end_s <= finished < config.turns.complete_end_s
    assert finished < open_ <= config.turns.incomplete_end_s
    unknown = app.pacing(config).floor_s("A")     # a partner not heard yet: least_end_s
    assert unknown == config.turns.least_end_s
    for looks_finished in ["I felt lonely last week.", "Yes.", "What I hear you saying is.",
                           "I imagine you might be feeling hurt."]:
        for step in ["send", "mirror", "empathize", "confirm", None]:
            assert max(wait_for(looks_finished, step, silence, 1.0), unknown) >= config.turns.least_end_s
            assert wait_for(looks_finished, step, silence, 1.0) >= config.turns.fluent_end_s
    faster = app.thought_end(config.with_changes(turns={"least_end_s": 0.8, "fluent_end_s": 0.8}))
    assert faster("I felt lonely last week when you worked late every night.", "send", silence, 1.0) < finished


def _paced_session(appointment_gap_s: float, answer: tuple[str, ...] = ("I think you got most of it.",),
                   answer_gap_s: float = 0.0, appointment_and: bool = False):
    """A's appointment as four phrases (about 11 s of speech) with `appointment_gap_s`
    between them (`appointment_and`: each phrase but the last ends on "and"), B's answer, A's
    message, B's mirror (with its cue), then A's answer to "did I get that?" without a cue,
    as `answer`'s phrases with `answer_gap_s` between them."""
    lines = ToneLines()
    audio = [np.zeros(SAMPLE_RATE, np.int16)]

    def say(parts, gap_s):
        for index, phrase in enumerate(parts):
            audio.append(lines.line(phrase))
            audio.append(np.zeros(int((gap_s if index < len(parts) - 1 else 3.0) * SAMPLE_RATE), np.int16))

    appointment = ["Sam, I would like to have a dialogue with you tonight about the evenings",
                   "and the weeks when you were working late at the office again",
                   "and the dinners we have not had together for a while now",
                   "if you have the time for it. Is now a good time?"]
    if appointment_and:
        appointment = [phrase.removeprefix("and ") + " and" for phrase in appointment[:-1]] + appointment[-1:]
    say(appointment, appointment_gap_s)
    for line in OPENING[1:] + ["What I hear you saying is you felt lonely. Did I get that?"]:
        say([line], 0.0)
    say(list(answer), answer_gap_s)
    return lines, np.concatenate(audio)


def _waits(events):
    return {t["step"]: t["t"] - t["end"] for t in of(events, "turn")}


@pytest.mark.parametrize("gap_inside_s, floor", [(0.3, "fluent_end_s"), (1.2, "least_end_s")])
def test_a_partner_who_pauses_only_briefly_is_answered_sooner(monkeypatch, gap_inside_s, floor):
    from facilitator import app

    monkeypatch.setattr(app, "thought_end", lambda config: lambda *args: 0.5)   # "finished"
    config = Config()
    events = _run_audio(*_paced_session(gap_inside_s), config)
    appointment = [t for t in of(events, "turn") if t["step"] == "appointment"]
    assert len(appointment) == 1 and appointment[0]["end_reason"] == "cue"   # never cut at its pauses
    waits, frame_s = _waits(events), config.turns.frame_ms / 1000
    expected = getattr(config.turns, floor)
    assert expected - 1e-6 <= waits["confirm"] <= expected + 2 * frame_s
    # A's first message is weighty: what A's light turns showed does not speed it up
    assert config.turns.least_end_s - 1e-6 <= waits["send"] <= config.turns.least_end_s + 2 * frame_s


def _ends_with_and(text, *args):
    """"and" keeps the turn open (longer than the floor), a comma a little (shorter than the
    floor: the floor is what holds the turn there), anything else is "finished"."""
    text = text.rstrip(".")
    return 2.8 if text.endswith(" and") else 1.5 if text.endswith(",") else 0.5


def _confirm_with_words_waits(monkeypatch, *session_args, config=None, transcriber=FakeTranscriber,
                              **session_options):
    """The confirm turn and A's wait before it, with _ends_with_and deciding the words' wait."""
    from facilitator import app

    monkeypatch.setattr(app, "thought_end", lambda config: _ends_with_and)
    events = _run_audio(*_paced_session(*session_args, **session_options), config or Config(), transcriber)
    assert len([t for t in of(events, "turn") if t["step"] == "appointment"]) == 1   # never cut
    confirm = [t for t in of(events, "turn") if t["step"] == "confirm"][0]
    return confirm, _waits(events)["confirm"]


def _answered_after(wait: float, setting: str) -> bool:
    turns = Config().turns
    return getattr(turns, setting) - 1e-6 <= wait <= getattr(turns, setting) + 2 * turns.frame_ms / 1000


def test_a_long_pause_the_words_did_not_cover_makes_the_rest_of_the_turn_wait_longer(monkeypatch):
    confirm, wait = _confirm_with_words_waits(
        monkeypatch, 0.3, ("I think you got most of it,", "you left out the dinners."), 1.3)
    assert confirm["text"].endswith("you left out the dinners.")
    assert wait >= Config().turns.least_end_s - 1e-6                  # not fluent_end_s any more


def test_a_long_pause_the_words_kept_open_does_not_slow_the_partner_down(monkeypatch):
    confirm, wait = _confirm_with_words_waits(
        monkeypatch, 0.3, ("I think you got most of it and", "you left out the dinners."), 1.3)
    assert confirm["text"].endswith("you left out the dinners.")      # the words waited through it
    assert _answered_after(wait, "fluent_end_s")


def test_a_long_pause_the_words_kept_open_in_an_earlier_turn_is_not_the_partner_s_pace(monkeypatch):
    # A's appointment pauses 1.2 s after each "... and" (the words kept it open); A's answer is fluent
    _, wait = _confirm_with_words_waits(monkeypatch, 1.2, appointment_and=True)
    assert _answered_after(wait, "fluent_end_s")


class _DropsTheLastAnd(FakeTranscriber):
    """Whisper's slip: a stretch longer than 1.3 s that ends on "... and" is read without
    the "and"; a shorter piece is read as the last word of the line whose end it holds."""

    def transcribe(self, audio, context=""):
        if len(audio) > 1.3 * SAMPLE_RATE:
            text = super().transcribe(audio, context).text
            return Transcript(text[:-len(" and")] + "." if text.endswith(" and") else text)
        self.calls.append(len(audio))
        haystack = np.asarray(audio).tobytes()
        ends = [line for line in self.lines.lines
                if len(line.audio) >= BLOCK and haystack.find(line.audio[-2 * BLOCK:-BLOCK].tobytes()) >= 0]
        return Transcript(ends[-1].text.split()[-1] if ends else "")


def test_a_dangling_and_the_long_reading_dropped_is_heard_in_the_last_moment_read_alone(monkeypatch):
    # A's appointment pauses 1.2 s after each "... and", which the reading of the whole
    # stretch leaves out: read alone, the last second holds it, and the words wait through
    # the pause, so A's pace stays fluent
    _, wait = _confirm_with_words_waits(monkeypatch, 1.2, appointment_and=True, transcriber=_DropsTheLastAnd)
    assert _answered_after(wait, "fluent_end_s")
    off = Config().with_changes(turns={"last_word_read_s": 0.0})
    _, wait = _confirm_with_words_waits(monkeypatch, 1.2, appointment_and=True, transcriber=_DropsTheLastAnd,
                                        config=off)
    assert _answered_after(wait, "least_end_s")       # the 1.2 s pauses looked like A's pace


def _confirm_after_mirror(answer_parts: list[str], gap_inside_s: float):
    lines = ToneLines()
    audio = [lines.conversation(OPENING + ["What I hear you saying is you felt lonely. Did I get that?"])]
    for index, part in enumerate(answer_parts):
        audio.append(lines.line(part))
        gap = gap_inside_s if index < len(answer_parts) - 1 else 4.0
        audio.append(np.zeros(int(gap * SAMPLE_RATE), np.int16))
    return lines, np.concatenate(audio)


def test_a_one_word_cue_waits_longer_so_yes_comma_goes_on():
    turns = Config().turns
    events = _run_audio(*_confirm_after_mirror(["Yes,", "exactly, that is what I meant."], 0.25))
    confirm = [t for t in of(events, "turn") if t["step"] == "confirm"]
    assert len(confirm) == 1 and confirm[0]["text"] == "Yes, exactly, that is what I meant."
    events = _run_audio(*_confirm_after_mirror(["Yes."], 0))
    confirm = [t for t in of(events, "turn") if t["step"] == "confirm"][0]
    assert confirm["end_reason"] == "cue"
    hangover = confirm["t"] - confirm["end"]
    assert turns.word_cue_end_ms / 1000 - 1e-6 <= hangover <= turns.word_cue_end_ms / 1000 + 0.031


def test_a_one_word_cue_after_more_words_ends_the_turn_at_once():
    turns = Config().turns
    events = _run_audio(*_confirm_after_mirror(["Yes, exactly."], 0))
    confirm = [t for t in of(events, "turn") if t["step"] == "confirm"][0]
    assert confirm["end_reason"] == "cue" and confirm["text"] == "Yes, exactly."
    assert confirm["t"] - confirm["end"] < turns.word_cue_end_ms / 1000 - 0.1
