"""What each turn of a recorded dialogue does, and what it is judged against (no audio).

The act labeller on many phrasings real couples use (stems, no stems, quoted mirrors, bad
mirrors), each in its place in a dialogue; the pairing of every mirror, summary, validation
and empathy with the Sender's words; rounds and role switches.
"""

from __future__ import annotations

import pytest

from facilitator.recorded.acts import ACTS, read_cues, split_validation_empathy
from facilitator.recorded.pairing import DialogueReader

MESSAGE = ("A", "I felt left out at the party when you talked to your friends all night.")


def acts(turns: list[tuple[str, str]]) -> list[str]:
    reader = DialogueReader()
    return [reader.read(speaker, text).act for speaker, text in turns]


def last_act(turns: list[tuple[str, str]]) -> str:
    return acts(turns)[-1]


MIRRORS = [
    "So you're saying you felt left out at the party.",
    "If I got it right, you felt left out at the party when I talked to my friends.",
    "If I heard you correctly, you felt left out at the party.",
    "What I heard is that you felt left out at the party.",
    "What I hear you saying is: I felt left out at the party when you talked to your friends.",
    "What I'm hearing is you felt left out. Did I get that?",
    "Let me see if I got that. You felt left out at the party. Did I get that?",
    "You felt left out at the party. Is that right?",
    "It sounds like you felt left out at the party when I was with my friends.",
    "Okay so, um, you're saying that you felt left out.",
    "Let me mirror that. You felt left out when I talked to my friends all night.",
    "You felt left out when I talked to my friends all night.",          # no stem: by place
    "You felt alone at the party.",                                        # no stem, other words
    "But I only talked to them for an hour, and you knew them too!",      # a bad mirror, by place
    "I didn't even talk to them that long.",                               # a rebuttal, by place
    "You said you felt left out. Am I getting it?",
]


@pytest.mark.parametrize("reply", MIRRORS)
def test_a_receivers_reply_to_a_message_is_a_mirror(reply):
    assert last_act([MESSAGE, ("B", reply)]) == "mirror"


MORE = ["Is there more?", "Is there more about that?", "Tell me more.", "Is there anything else?",
        "Anything else you want to say?", "Okay. Is there more?"]


@pytest.mark.parametrize("question", MORE)
def test_is_there_more_alone(question):
    turns = [MESSAGE, ("B", "So you felt left out at the party. Did I get that?"),
             ("A", "Yes, you got it."), ("B", question)]
    assert last_act(turns) == "more"


def test_a_mirror_that_ends_with_is_there_more_is_a_mirror():
    assert last_act([MESSAGE, ("B", "You felt left out at the party. Is there more?")]) == "mirror"


EXCHANGE = [MESSAGE, ("B", "So you felt left out at the party. Did I get that?"),
            ("A", "Yes."), ("B", "Is there more?"), ("A", "No, that's all.")]

SUMMARIES = [
    "Let me see if I got it all. You felt left out at the party when I talked to my friends.",
    "So, in summary, you felt left out when I talked to my friends all night.",
    "To sum up, you felt left out at the party. Did I get it all?",
    "Putting it all together, you felt left out at the party when I was with my friends.",
    "You felt left out at the party while I talked to my friends all night.",  # by place
]


@pytest.mark.parametrize("summary", SUMMARIES)
def test_after_no_more_the_receiver_summarises(summary):
    assert last_act(EXCHANGE + [("B", summary)]) == "summary"


SUMMARISED = EXCHANGE + [("B", "Let me see if I got it all. You felt left out at the party."),
                         ("A", "Yes, you did.")]

VALIDATIONS = [
    "You make sense, because you didn't know anyone there and I left you alone.",
    "That makes sense, because I talked to my friends all night.",
    "It makes sense to me that you felt left out, since you didn't know anyone.",
    "I can see why you felt left out, you didn't know anyone at the party.",
    "I understand why you were upset, I left you on your own all night.",
    "No wonder you felt left out, I was gone all night.",
    "That totally makes sense to me.",
]


@pytest.mark.parametrize("validation", VALIDATIONS)
def test_validation_phrasings(validation):
    assert last_act(SUMMARISED + [("B", validation)]) == "validation"


EMPATHIES = [
    "I imagine you might feel lonely and hurt.",
    "I imagine you might be feeling sad. Is that how you feel?",
    "You must have felt embarrassed and alone.",
    "I can only imagine how hurt you were.",
    "You probably felt abandoned.",
    "That must have been so lonely.",
    "I guess you felt invisible. Is that what you're feeling?",
]


@pytest.mark.parametrize("empathy", EMPATHIES)
def test_empathy_phrasings(empathy):
    validated = SUMMARISED + [("B", "That makes sense, because I left you alone.")]
    assert last_act(validated + [("B", empathy)]) == "empathy"


def test_after_the_validation_a_reply_without_a_stem_is_the_empathy():
    validated = SUMMARISED + [("B", "You make sense, because I left you alone.")]
    assert last_act(validated + [("B", "Lonely, and maybe a bit hurt.")]) == "empathy"


APPRECIATIONS = [
    "One thing I appreciate about you is how you make coffee for me every morning.",
    "I'm so grateful that you called my mom on her birthday.",
    "Thank you for picking up the kids on Tuesday.",
    "I really love it when you sing in the kitchen.",
]


@pytest.mark.parametrize("text", APPRECIATIONS)
def test_appreciations_at_the_end_and_as_a_dialogue_of_their_own(text):
    ended = SUMMARISED + [("B", "That makes sense, because I left you alone."),
                          ("B", "I imagine you felt lonely."), ("A", "Yes.")]
    assert last_act(ended + [("A", text)]) == "appreciation"
    assert last_act(ended + [("B", text)]) == "appreciation"
    assert acts([("A", text)]) == ["appreciation"]


REQUESTS = [
    "Would you be willing to call me when you're late, for the next two weeks?",
    "My request is that we eat dinner together twice a week.",
    "Could you please text me every evening when you leave work?",
    "I would like you to put your phone away at dinner every night this week.",
]


@pytest.mark.parametrize("text", REQUESTS)
def test_requests(text):
    assert last_act([MESSAGE, ("B", "You felt left out."), ("A", "Yes."), ("A", text)]) == "request"


OTHERS = [
    ("A", "Sam, I would like to have a dialogue. Is now a good time?"),
    ("B", "Yes, I'm ready now."),
    ("B", "Sure, now is fine."),
    ("A", "Can we talk? Is this a good time?"),
    ("B", "Yeah."),
]


@pytest.mark.parametrize("turn", OTHERS)
def test_appointment_talk_and_plain_answers_are_other(turn):
    assert acts([("A", "Sam, would you like to have a dialogue? Is now okay?"), turn])[-1] == "other"


@pytest.mark.parametrize("answer", ["Yes, you got it.", "No, that's all.", "Not quite.",
                                    "Yes, that's right.", "Mm-hmm."])
def test_the_senders_plain_answers_are_other(answer):
    assert last_act([MESSAGE, ("B", "You felt left out. Did I get that?"), ("A", answer)]) == "other"


SENDER_MESSAGES = [
    "I feel lonely when you work late.",
    "When you checked your phone at dinner, I felt invisible.",
    "Yes, there is. I also felt embarrassed when you laughed at my story.",
    "No, you missed the part about the dinner. I missed our dinner together.",
    "You never listen to me and you're so selfish.",            # blaming, still a message
]


@pytest.mark.parametrize("text", SENDER_MESSAGES)
def test_the_senders_own_words_are_messages(text):
    assert last_act([MESSAGE, ("B", "You felt left out. Did I get that?"), ("A", text)]) == "message"


def test_every_act_is_known_and_cues_ignore_case_and_punctuation():
    assert {"message", "mirror", "more", "summary", "validation", "empathy", "appreciation",
            "request", "other"} == set(ACTS)
    assert read_cues("WHAT I HEAR YOU SAYING IS... you're tired!").frame
    assert read_cues("Is there more?").has("more") and not read_cues("I want more time").has("more")


def test_a_turn_that_validates_then_empathises_is_split():
    text = "You make sense, because I left you alone. I imagine you felt lonely. Is that how you feel?"
    validation, empathy = split_validation_empathy(text)
    assert "make sense" in validation and "imagine" in empathy and "imagine" not in validation
    assert split_validation_empathy("I imagine you felt lonely.") is None


# -- pairing: what each reply is judged against -----------------------------------------------
def judged(turns):
    reader = DialogueReader()
    return [(reader.read(s, t)) for s, t in turns]


def test_a_mirror_answers_the_messages_since_the_last_mirror_and_a_retry_the_same_words():
    read = judged([
        ("A", "I felt lonely last week."), ("A", "I missed our dinners."),      # one message, two turns
        ("B", "You felt lonely last week. Did I get that?"),
        ("A", "Not quite."),
        ("B", "You felt lonely last week and you missed our dinners. Did I get that?"),
        ("A", "Yes."), ("B", "Is there more?"),
        ("A", "Yes. I also worry that work comes first for you."),
        ("B", "You worry that work comes first for me."),
    ])
    first, retry, third = read[2].judgements[0], read[4].judgements[0], read[8].judgements[0]
    assert first.kind == retry.kind == third.kind == "mirror"
    assert first.context == ["I felt lonely last week.", "I missed our dinners."] == retry.context
    assert (first.attempt, retry.attempt) == (1, 2)
    assert third.context == ["I also worry that work comes first for you."] and third.attempt == 1
    assert [j.kind for j in read[0].judgements] == ["sender_statement"]


def test_summary_validation_and_empathy_answer_every_message_of_the_round():
    read = judged([
        ("A", "I felt lonely last week."), ("B", "You felt lonely. Is there more?"),
        ("A", "Yes, there is. I missed our dinners."), ("B", "You missed our dinners."),
        ("A", "No, that's all."),
        ("B", "Let me see if I got it all. You felt lonely and you missed our dinners."),
        ("A", "Yes."),
        ("B", "You make sense, because I was away. I imagine you felt sad. Is that how you feel?"),
    ])
    everything = ["I felt lonely last week.", "I missed our dinners."]
    assert read[5].act == "summary" and read[5].judgements[0].context == everything
    kinds = [(j.kind, j.context) for j in read[7].judgements]
    assert kinds == [("validation", everything), ("empathy", everything)]
    assert all(not t.judgements for t in (read[4], read[6]))
    assert {t.round for t in read} == {1} and {t.sender for t in read} == {"A"}


def test_roles_switch_for_the_second_round():
    read = judged([
        ("A", "I would like to have a dialogue. Is now a good time?"), ("B", "Yes."),
        ("A", "I felt lonely last week."), ("B", "You felt lonely last week."),
        ("A", "No, that's all."), ("B", "In summary, you felt lonely last week."),
        ("B", "That makes sense, because I was away."), ("B", "I imagine you felt sad."),
        ("A", "Yes."),
        ("B", "I feel stressed when the kitchen is messy in the morning."),
        ("A", "So you feel stressed when the kitchen is messy. Did I get that?"),
    ])
    assert read[9].act == "message" and read[9].round == 2 and read[9].sender == "B"
    assert read[10].act == "mirror" and read[10].role == "receiver"
    assert read[10].judgements[0].context == ["I feel stressed when the kitchen is messy in the morning."]
    assert [t.role for t in read[:2]] == ["sender", "receiver"]


def test_a_new_appointment_from_the_receiver_starts_the_next_round():
    read = judged([
        ("A", "I felt lonely last week."), ("B", "You felt lonely last week."),
        ("A", "No, that's all."), ("B", "To sum up, you felt lonely last week."), ("A", "Yes."),
        ("B", "Alex, I would like to have a dialogue too. Is now okay?"), ("A", "Yes, I'm available."),
        ("B", "I feel tired when the alarm goes off at five."),
    ])
    assert (read[5].round, read[5].sender, read[5].step) == (2, "B", "appointment")
    assert read[6].step == "availability" and read[7].act == "message" and read[7].round == 2


def test_the_first_sender_is_found_from_a_reply_heard_first():
    read = judged([("B", "So you're saying you felt lonely. Did I get that?"), ("A", "Yes.")])
    assert read[0].sender == "A" and read[0].role == "receiver"


# -- whole dialogues as a recogniser writes them (fillers, slips, other wordings) ---------------
TRANSCRIBED = [
    ("B", "Hey, do you have a few minutes to talk? There's something on my mind.", "other"),
    ("A", "Sure, I'm all ears.", "other"),
    ("B", "So, um, I've been feeling really overwhelmed with the kids in the mornings.", "message"),
    ("B", "Like, I do breakfast and the lunches and the school run, all by myself.", "message"),
    ("A", "Okay, so what I'm hearing is you feel overwhelmed in the mornings because you do "
          "breakfast, the lunches and the school run on your own. Did I get mad?", "mirror"),
    ("B", "Yeah, pretty much.", "other"),
    ("A", "Is there more about that?", "more"),
    ("B", "Yeah there is. I'm scared I'll snap at them one of these days.", "message"),
    ("A", "You're scared you'll snap at the kids one of these days.", "mirror"),
    ("B", "Mm-hmm. No, that's it.", "other"),
    ("A", "So overall, you feel overwhelmed doing the mornings alone and you're scared you'll "
          "snap at the kids. Did I get it all?", "summary"),
    ("B", "You did.", "other"),
    ("A", "You make a lot of sense, I mean, three kids and no help, of course you're overwhelmed.", "validation"),
    ("A", "And I'm guessing you feel alone and maybe a bit resentful. Is that what you're feeling?", "empathy"),
    ("B", "Yes. Thank you.", "other"),
    ("A", "Okay. Can I have a turn? Is this a good time?", "other"),
    ("B", "Yes.", "other"),
    ("A", "When you check your phone while I'm talking I feel like I don't matter.", "message"),
    ("B", "If I heard you correctly, when I check my phone while you talk you feel you don't matter.", "mirror"),
]


def test_a_transcribed_dialogue_reads_as_its_acts():
    reader = DialogueReader()
    read = [reader.read(who, text) for who, text, _ in TRANSCRIBED]
    assert [r.act for r in read] == [act for _, _, act in TRANSCRIBED]
    assert read[0].sender == "B" and read[17].sender == "A" and read[17].round == 2
    summary = read[10].judgements[0]
    assert summary.kind == "summary" and len(summary.context) == 3
    assert read[8].judgements[0].context == ["I'm scared I'll snap at them one of these days."]


def test_the_receivers_own_feelings_in_place_of_empathy_are_a_missed_empathy_not_a_new_round():
    validated = SUMMARISED + [("B", "That makes sense, because I left you alone.")]
    read = judged(validated + [("B", "Honestly I feel terrible too, like the worst partner ever.")])
    assert (read[-1].act, read[-1].round, read[-1].sender) == ("empathy", 1, "A")
    assert read[-1].judgements[0].kind == "empathy"


def test_a_mirror_that_thanks_is_still_a_mirror():
    assert last_act([("A", "Thank you for picking up my mom from the airport, I felt so supported."),
                     ("B", "So you wanted to say thank you for me picking up your mom, and you felt "
                           "supported. Did I get that?")]) == "mirror"


def test_the_same_sender_asking_again_after_the_exchange_starts_a_new_round():
    exchange = [("A", "I would like to have a dialogue. Is now a good time?"), ("B", "Yes."),
                ("A", "I felt lonely last week."), ("B", "You felt lonely last week."),
                ("A", "No, that's all."), ("B", "In summary, you felt lonely last week."),
                ("B", "That makes sense, because I was away."), ("B", "I imagine you felt sad."),
                ("A", "Yes, that's how I feel.")]
    read = judged(exchange + exchange)
    second = read[len(exchange):]
    assert {t.round for t in read[:len(exchange)]} == {1} and {t.round for t in second} == {2}
    assert {t.sender for t in second} == {"A"}
    assert second[5].judgements[0].context == ["I felt lonely last week."]     # this round's only
    follow_on = judged(exchange + [("A", "I also feel tired when you come home late.")])
    assert (follow_on[-1].act, follow_on[-1].round) == ("message", 2)
