import pytest

from facilitator.dialogue import AnswerReader, Dialogue, Finished, Say, Script, ScriptError, StepStarted
from facilitator.judging import Verdict

NAMES = {"A": "Alex", "B": "Sam"}


def feedback(verdict, sender, receiver):
    return f"{receiver}, you left out {', '.join(verdict.missing)}. Would you like to try again?"


def steps(actions):
    return [a.name for a in actions if isinstance(a, StepStarted)]


def said(actions):
    return [a.text for a in actions if isinstance(a, Say)]


@pytest.fixture
def dialogue():
    return Dialogue(Script.load("intentional_dialogue"), NAMES, "A", feedback=feedback)


def test_every_spoken_sentence_comes_from_prompts(dialogue):
    first = dialogue.start()
    assert steps(first) == ["appointment"]
    assert "Alex" in said(first)[0] and "{" not in said(first)[0]


def test_a_whole_round_then_roles_switch(dialogue):
    dialogue.start()
    passed = lambda kind, label: Verdict(kind, label, 1.0)
    assert dialogue.expectation.speaker == "A"
    dialogue.on_turn("I would like to have a dialogue. Is now a good time?")
    assert dialogue.expectation.step == "availability" and dialogue.expectation.speaker == "B"
    dialogue.on_turn("Yes, I'm ready now.")
    assert dialogue.judgement_for("I felt lonely.") == ("sender_statement", [])
    dialogue.on_turn("I felt lonely.", passed("sender_statement", "safe"))
    assert dialogue.judgement_for("You felt lonely. Did I get that?") == ("mirror", ["I felt lonely."])
    dialogue.on_turn("You felt lonely. Did I get that?", passed("mirror", "mirror"))
    assert dialogue.step.name == "confirm"
    assert said(dialogue.on_turn("Yes, you got it.")) == ["Alex, is there more?"]
    # more words instead of "no": they are the Sender's message too, and get mirrored
    actions = dialogue.on_turn("Yes. I also missed our walks.")
    assert steps(actions)[-1] == "mirror"
    assert dialogue.messages == ["I felt lonely.", "I also missed our walks."]
    dialogue.on_turn("You missed our walks. Did I get that?", passed("mirror", "mirror"))
    dialogue.on_turn("Yes.")
    assert steps(dialogue.on_turn("No, that's all.")) == ["summary"]
    assert dialogue.judgement_for("x")[1] == ["I felt lonely.", "I also missed our walks."]
    dialogue.on_turn("You felt lonely and missed our walks. Did I get it all?", passed("summary", "complete"))
    dialogue.on_turn("Yes.")
    dialogue.on_turn("You make sense, because...", passed("validation", "valid"))
    dialogue.on_turn("I imagine you feel lonely.", passed("empathy", "empathic"))
    actions = dialogue.on_turn("Yes.")
    assert "switch" in steps(actions) and steps(actions)[-1] == "send"
    assert dialogue.sender == "B" and dialogue.round == 2 and dialogue.messages == []


def test_failed_mirror_gets_feedback_and_a_retry_then_moves_on(dialogue):
    dialogue.start()
    dialogue.on_turn("Can we talk?")
    dialogue.on_turn("Yes.")
    dialogue.on_turn("I felt lonely when you worked late.", Verdict("sender_statement", "safe", 1))
    partial = Verdict("mirror", "partial", 0.4, missing=["when you worked late"])
    actions = dialogue.on_turn("You felt lonely. Did I get that?", partial)
    assert said(actions) == ["Sam, you left out when you worked late. Would you like to try again?"]
    assert dialogue.step.name == "mirror" and dialogue.tries == 1
    dialogue.on_turn("You felt lonely. Did I get that?", partial)
    actions = dialogue.on_turn("You felt lonely. Did I get that?", partial)
    assert dialogue.step.name == "confirm"  # after max_tries the dialogue goes on
    assert any("Let's go on" in s for s in said(actions))


def test_no_at_confirm_asks_the_sender_to_clarify(dialogue):
    dialogue.start()
    for text in ("Can we talk?", "Yes.", "I felt lonely."):
        dialogue.on_turn(text)
    dialogue.on_turn("You felt angry. Did I get that?", Verdict("mirror", "mirror", 1))
    actions = dialogue.on_turn("No.")
    assert steps(actions) == ["clarify"] and "again" in said(actions)[0]


def test_whole_script_reaches_the_end(dialogue):
    dialogue.start()
    for _ in range(200):
        if dialogue.finished:
            break
        step = dialogue.step.name
        reply = "No, that's all." if step == "more" else "Yes."
        actions = dialogue.on_turn(reply)
    assert dialogue.finished and isinstance(actions[-1], Finished)
    assert said(actions)[-1].startswith("Thank you both")


def test_skip_and_override(dialogue):
    dialogue.start()
    assert steps(dialogue.skip()) == ["availability"]
    dialogue.skip()
    dialogue.skip()
    assert dialogue.step.name == "mirror"
    assert dialogue.override(True) == []          # nothing judged yet: nothing to override


def verdict(kind, label, passed):
    made = Verdict(kind, label, 1.0 if passed else 0.0)
    assert made.passed == passed
    return made


def test_coach_override_of_a_failed_mirror_moves_on(dialogue):
    dialogue.start()
    for _ in range(2):
        dialogue.skip()
    dialogue.on_turn("I felt alone when you worked late.")
    assert dialogue.step.name == "mirror"
    dialogue.on_turn("You are always complaining.", verdict("mirror", "not_mirror", False))
    assert dialogue.step.name == "mirror"                 # waiting for a retry
    actions = dialogue.override(True)
    assert said(actions)[0].startswith("Your coach says that was fine")
    assert steps(actions) == ["confirm"]
    assert dialogue.override(True) == []                  # only once


def test_coach_override_of_a_passed_verdict_goes_back_and_restores_the_message(dialogue):
    dialogue.start()
    for _ in range(2):
        dialogue.skip()
    dialogue.on_turn("You never listen to me, you are selfish.", verdict("sender_statement", "safe", True))
    assert dialogue.step.name == "mirror" and dialogue.messages == ["You never listen to me, you are selfish."]
    actions = dialogue.override(False)
    assert said(actions)[0].startswith("Your coach would like you to try that once more")
    assert steps(actions) == ["send"] and dialogue.messages == []
    dialogue.on_turn("I feel unheard when I talk and the phone is out.", verdict("sender_statement", "safe", True))
    assert dialogue.step.name == "mirror"
    assert dialogue.messages == ["I feel unheard when I talk and the phone is out."]


def test_answers():
    reader = AnswerReader(["yes", "you got it"], ["no", "that's all"])
    assert reader.read("Yes, you got it.") == "yes"
    assert reader.read("No, that's all.") == "no"
    assert reader.read("Yesterday I felt sad about the dishes and the kids") == "other"
    assert reader.read("Yes. I also felt sad when you left the dishes for me to do.") == "other"


def test_bad_script_is_reported(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[script]\nfirst_step = "a"\n[[steps]]\nname = "a"\nnext = "nowhere"\n')
    with pytest.raises(ScriptError, match="unknown step nowhere"):
        Script.load(str(path))
