"""Feedback that names the real problem: the spoken text for a verdict's reason and detail
(quoting what the Sender and the Receiver said, naming the Sender), its general sentence
when the words were not found, the old behaviour without a reason; and the reason and
detail kept in the session record and shown in the report."""

from __future__ import annotations

import re
import string

import pytest

from facilitator import schema
from facilitator.judging import Verdict
from facilitator.judging.cases import REASONS
from facilitator.judging.explain import explain
from facilitator.judging.feedback import feedback_text, load_templates
from facilitator.judging.structured import StructuredJudge

SAM, ALEX = "Sam", "Alex"          # Sam sends, Alex mirrors


def spoken(kind, sender, reply, label="not_mirror", **verdict):
    reason, detail = explain(kind, [sender], reply)
    return feedback_text(Verdict(kind, label, 0.1, reason=reason, detail=detail, **verdict), SAM, ALEX)


def test_actor_swap_quotes_both_sides_and_names_the_sender():
    text = spoken("mirror", "when you drove my dad to the airport without telling me i felt left out",
                  "so when your dad drove you to the airport you felt left out")
    assert text.startswith("Thank you, Alex.")
    assert 'You said "your dad drove you to the airport"' in text
    assert 'Sam said "you drove my dad to the airport without telling me"' in text
    assert "who did what" in text and text.endswith("Would you like to try again?")


def test_words_said_back_unturned_are_given_from_the_receivers_side():
    text = spoken("mirror", "I do all the cooking and you do nothing", "so I do all the cooking and you don't help")
    assert '"I do all the cooking", just as Sam said it' in text
    assert '"you do all the cooking"' in text


def test_dropped_negation_says_what_sam_said_and_what_was_heard():
    text = spoken("mirror", "I don't like it when you check your phone at dinner",
                  "you like it when I check my phone at dinner")
    assert 'You left out a "not". Sam said "I don\'t like it", and you said "you like it".' in text


def test_added_negation():
    text = spoken("mirror", "I want to go to your parents for christmas",
                  "so you don't want to go to my parents for christmas")
    assert 'You added a "not"' in text and '"you don\'t want to go to my parents for christmas"' in text


def test_interpretation_is_named_and_quoted():
    text = spoken("mirror", "when you missed ethan's school play for a work call, i felt like i was making excuses for you",
                  "so basically you think i'm a bad father")
    assert ('That sounds like your interpretation: "you think I\'m a bad father". '
            "For now, just send back what Sam said.") in text


def test_a_summary_is_asked_to_gather_up():
    text = spoken("summary", "I'd like us to see a counsellor together", "so you think our marriage is broken")
    assert "your interpretation" in text and "just gather up what Sam said" in text


@pytest.mark.parametrize("reason,expected", [
    ("actor", "Listen again for who did what. Say it from Sam's side"),
    ("unswapped", "where Sam said I, you say you"),
    ("negation", "what Sam said is so, and what is not"),
    ("added", "It sounds like you added something of your own. For now, just send back what Sam said."),
    ("defend", "your side of it"),
    ("reason_changed", "the reason Sam gave"),
])
def test_a_reason_without_its_words_gets_its_general_sentence(reason, expected):
    text = feedback_text(Verdict("mirror", "not_mirror", 0.0, reason=reason), SAM, ALEX)
    assert expected in text
    assert '"' not in text


def test_left_out_reasons_use_the_missing_sentences():
    v = Verdict("mirror", "partial", 0.4, reason="dropped_feeling", detail={"feeling": "worried"})
    assert "You got some of it. You may have left out the part about feeling worried." in feedback_text(v, SAM, ALEX)
    v = Verdict("mirror", "partial", 0.4, reason="dropped_point", detail={"part": "I need us to make a budget"})
    assert "the part where Sam said: I need us to make a budget." in feedback_text(v, SAM, ALEX)


def test_no_reason_or_an_unknown_one_keeps_the_old_coaching():
    old = Verdict("mirror", "partial", 0.4, missing=["and i feel so lonely"])
    assert "feeling lonely" in feedback_text(old, SAM, ALEX)
    unknown = Verdict("mirror", "partial", 0.4, missing=["and i feel so lonely"], reason="own_logic")
    assert feedback_text(unknown, SAM, ALEX) == feedback_text(old, SAM, ALEX)
    intrusion = Verdict("mirror", "not_mirror", 0.0, intrusions=["but i was tired"], reason="question_back")
    assert "That came out as a question. For now, just send back what Sam said." in feedback_text(intrusion, SAM, ALEX)


def test_a_passing_verdict_says_nothing_whatever_its_reason():
    assert feedback_text(Verdict("mirror", "mirror", 0.9, reason="actor", detail={"said": "x", "heard": "y"}),
                         SAM, ALEX) is None


def test_every_reason_sentence_is_for_a_known_reason_and_uses_known_words():
    section = load_templates()["reasons"]
    known = {"sender", "receiver", "said", "heard", "swapped", "stay"}
    for key, sentence in section.items():
        base = re.sub(r"_(general|dropped|added)$", "", key)
        assert base in REASONS, key
        names = {name for _, name, _, _ in string.Formatter().parse(sentence) if name}
        assert names <= known, (key, names)
    for kind in ("mirror", "summary"):
        assert "{sender}" in load_templates()[kind]["stay"]


def test_the_structured_judge_names_an_interpretation():
    verdict = StructuredJudge().judge("mirror", ["when you missed ethan's school play i felt like i was making excuses for you"],
                                      "so basically you think i'm a bad father")
    assert not verdict.passed
    assert verdict.reason == "added" and verdict.detail == {"heard": "you think I'm a bad father"}
    assert '"you think I\'m a bad father"' in feedback_text(verdict, SAM, ALEX)


def test_a_passing_structured_verdict_has_no_reason():
    verdict = StructuredJudge().judge("mirror", ["i feel lonely when you work late"],
                                      "so you feel lonely when i work late. did i get that")
    assert verdict.passed and verdict.reason == "" and verdict.detail == {}


# -- the record ----------------------------------------------------------------------------
def _verdict_line(**extra):
    return {"type": "verdict", "t": 3.0, "kind": "mirror", "label": "not_mirror", "score": 0.1,
            "missing": [], "intrusions": [], "passed": False, "step": "mirror", "round": 1,
            "attempt": 1, **extra}


def test_reason_and_detail_are_recorded_and_read_back():
    line = _verdict_line(reason="actor", detail={"said": "you drove my dad", "heard": "your dad drove you"})
    event = schema.parse(line)
    assert event.reason == "actor" and event.detail["heard"] == "your dad drove you"
    assert event.to_dict() == line


def test_an_old_verdict_line_still_reads_and_is_written_as_before():
    line = _verdict_line()
    event = schema.parse(line)
    assert event.reason == "" and not event.detail
    assert event.to_dict() == line          # nothing added to lines without a reason


def test_the_report_shows_why():
    from facilitator.review.analysis import analyse
    from facilitator.review.report import _verdicts_html

    events = [{"type": "step", "t": 1.0, "name": "mirror", "round": 1, "sender": "A", "receiver": "B",
               "messages": []},
              _verdict_line(reason="negation", detail={"said": "I don't like it", "heard": "you like it"}),
              _verdict_line(t=5.0, attempt=2)]
    session = analyse(events)
    attempts = session.exchanges[0].attempts
    assert attempts[0].reason == "negation" and attempts[1].reason == ""
    html = _verdicts_html(session)
    assert "why: negation" in html and "<q>I don&#x27;t like it</q>" in html
    assert html.count("why:") == 1


def test_coaching_starts_with_sentences_rendered_ahead():
    from facilitator.judging import Verdict
    from facilitator.judging.feedback import feedback_text, fixed_sentences
    from facilitator.speech_out import sentences

    fixed = fixed_sentences({"A": "Alex", "B": "Sam"})
    assert "Thank you, Sam." in fixed and "Thank you, Alex." in fixed
    coaching = feedback_text(Verdict("mirror", "partial", 0.4, missing=["you worked late"]), "Alex", "Sam")
    first = sentences(coaching)[0]
    assert first in fixed and first == "Thank you, Sam."
