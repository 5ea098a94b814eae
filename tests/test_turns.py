import numpy as np

from facilitator.config import TurnsConfig
from facilitator.turns import (EndOfTurnPolicy, Pause, TurnSegmenter, cue_may_go_on, ends_with_cue,
                               words_complete)


def feed(segmenter, audio, start=0.0):
    events = []
    n = 480
    for i in range(len(audio) // n):
        t = start + i * n / 16000
        event = segmenter.push(audio[i * n:(i + 1) * n], t)
        if event is not None:
            events.append((t, event))
    return events


def test_turn_opens_on_speech_and_pauses_are_reported(say):
    speech = say("I felt lonely last week when you worked late.")
    audio = np.concatenate([np.zeros(16000, np.int16), speech, np.zeros(16000, np.int16)])
    segmenter = TurnSegmenter(TurnsConfig())
    events = feed(segmenter, audio)
    starts = [t for t, e in events if e == "start"]
    assert len(starts) == 1 and 0.6 < starts[0] < 1.3
    pauses = [e for _, e in events if isinstance(e, Pause)]
    assert pauses and pauses[-1].silence_s > 0.8
    turn = segmenter.close_turn()
    speech_len = len(speech) / 16000
    assert abs((turn.speech_end - turn.speech_start) - speech_len) < 0.5
    assert turn.start < turn.speech_start  # pre-roll kept


def test_silence_and_zeros_open_no_turn():
    segmenter = TurnSegmenter(TurnsConfig())
    assert feed(segmenter, np.zeros(48000, np.int16)) == []
    assert segmenter.turn is None


def test_cue_matching_forgives_recognition_slips():
    cues = ["did i get that", "is that right"]
    assert ends_with_cue("What I hear you saying is you felt hurt. Did I get that?", cues)
    assert ends_with_cue("...you felt hurt. Did I get mad?", cues)
    assert not ends_with_cue("Did I get that part right, and also", cues)
    assert not ends_with_cue("Let me see if I got it all.", ["did i get it all"])
    assert ends_with_cue("Yes.", ["yes"]) and not ends_with_cue("Yesterday", ["yes"])


def test_a_lone_one_word_cue_or_a_trailing_comma_may_go_on():
    assert cue_may_go_on("Yes.", "yes") and cue_may_go_on("Um, yeah.", "yeah")
    assert cue_may_go_on("Yes, exactly,", "exactly") and cue_may_go_on("You got it,", "you got it")
    assert not cue_may_go_on("Yes, exactly.", "exactly") and not cue_may_go_on("No, not exactly.", "exactly")
    assert not cue_may_go_on("That's right.", "that's right")


def test_a_one_word_cue_ends_at_once_only_after_more_words():
    policy, config = EndOfTurnPolicy(TurnsConfig()), TurnsConfig()
    cues = ["yes", "exactly", "that's right"]
    short, long = (config.cue_end_ms + 10) / 1000, (config.word_cue_end_ms + 10) / 1000
    assert policy.decide("Yes, exactly.", short, cues) == "cue"
    assert policy.decide("That's right.", short, cues) == "cue"
    assert policy.decide("Yes.", short, cues) is None and policy.decide("Yes.", long, cues) == "cue"
    assert policy.decide("Yes, exactly,", short, cues) is None
    assert policy.decide("Yes, exactly.", short, cues, read_to_end=False) is None


def test_words_complete():
    assert words_complete("I felt lonely when you worked late.")
    assert not words_complete("I felt lonely when you worked late and")
    assert not words_complete("I felt lonely because...")
    assert not words_complete("I felt lonely,")
    assert not words_complete("")


def test_policy_never_cuts_a_natural_pause():
    policy = EndOfTurnPolicy(TurnsConfig())
    cues = ["did i get that"]
    assert policy.decide("You felt lonely. Did I get that?", 0.2, cues) == "cue"
    assert policy.decide("I felt lonely when you worked late.", 1.5, cues) is None
    assert policy.decide("I felt lonely when you worked late.", 1.9, cues) is None
    assert policy.decide("I felt lonely when you worked late.", 2.3, cues) == "complete"
    assert policy.decide("I felt lonely because", 2.0, cues) is None
    assert policy.decide("I felt lonely because", 3.0, cues) == "silence"


def test_silence_is_counted_from_the_last_voiced_frame_and_half_a_pause_comes_first(say):
    """The live loop starts working out who spoke after half a pause of silence: that
    moment must come before the pause itself, and speech must reset the count."""
    config = TurnsConfig()
    segmenter = TurnSegmenter(config)
    speech = say("I felt lonely last week.")
    audio = np.concatenate([np.zeros(8000, np.int16), speech, np.zeros(16000, np.int16)])
    n = 480
    half_at = pause_at = None
    for i in range(len(audio) // n):
        t = i * n / 16000
        event = segmenter.push(audio[i * n:(i + 1) * n], t)
        if segmenter.turn is None:
            continue
        if half_at is None and segmenter.silence_ms >= config.pause_ms / 2 \
                and t > segmenter.turn.speech_end:
            half_at = t
        if pause_at is None and isinstance(event, Pause):
            pause_at = t
    assert half_at is not None and pause_at is not None
    assert half_at < pause_at
    assert segmenter.silence_ms >= 900
    frames = speech[: len(speech) // n * n].reshape(-1, n).astype(np.float64)
    loudest = int(np.argmax((frames ** 2).mean(axis=1)))
    segmenter.push(speech[loudest * n:(loudest + 1) * n], len(audio) / 16000)
    assert segmenter.silence_ms == 0


def test_the_silences_inside_a_turn_are_kept_with_it(say):
    first, second = say("I felt lonely last week."), say("I missed having dinner together.")
    gap = np.zeros(int(0.9 * 16000), np.int16)
    audio = np.concatenate([np.zeros(16000, np.int16), first, gap, second, np.zeros(16000, np.int16)])
    segmenter = TurnSegmenter(TurnsConfig())
    feed(segmenter, audio)
    turn = segmenter.close_turn()
    assert turn.pauses and all(p > 0 for p in turn.pauses)
    assert 0.9 <= max(turn.pauses) < 0.9 + 2 * 0.35 + 0.1   # the gap and espeak-ng's own padding
    assert sorted(turn.pauses)[-2:][0] < 0.9                 # the other silences are the voice's own
    assert len(turn.pause_starts) == len(turn.pauses)
    longest = turn.pauses.index(max(turn.pauses))
    first_end = 1.0 + len(first) / 16000                   # the gap begins where the first sentence ends
    assert abs(turn.pause_starts[longest] - first_end) < 0.45
    assert turn.pause_starts == sorted(turn.pause_starts) and turn.pause_starts[-1] < turn.speech_end


def test_a_dangling_word_is_heard_at_the_end_of_the_last_moment_read_alone():
    from facilitator.turns import dangling_word

    assert dangling_word("parents, and", "parents", 1.0) == "and"
    assert dangling_word("Because...", "night", 1.0) == "because"
    assert dangling_word("with your parents.", "parents", 1.0) == "", "nothing left out"
    assert dangling_word("and the kids.", "kids", 1.0) == "", "a finished thought after its and"
    assert dangling_word("", "parents", 1.0) == ""
    # more words than a second of speech can hold: Whisper heard the "and", then invented on
    assert dangling_word("And that's how you feel about your appearance.", "parents", 1.0) == "and"
    assert dangling_word("I want to go in one by quickly.", "quickly", 1.0) == "", \
        "an invented reading that does not start by joining on holds no dangling word"
    assert dangling_word("And that's how you feel about it.", "parents", 2.0) == "", \
        "two seconds can hold seven words: the reading's own last word decides"
