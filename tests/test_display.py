"""The terminal display: a plain log when not a terminal, a live full-screen view when it is."""

from __future__ import annotations

import io
import time

from rich.console import Console

from facilitator.display import TerminalDisplay

NAMES = {"A": "Sam", "B": "Alex"}


def step(name: str, round_: int = 1, sender: str = "A", receiver: str = "B") -> dict:
    return {"type": "step", "t": 1.0, "name": name, "round": round_, "sender": sender,
            "receiver": receiver}


def turn(speaker: str | None, role: str, step_name: str, text: str, t: float = 5.0) -> dict:
    return {"type": "turn", "t": t, "speaker": speaker, "role": role, "step": step_name,
            "text": text, "start": t - 2, "end": t, "confidence": 0.9}


def partial(text: str, speaker: str = "A", t: float = 3.0) -> dict:
    return {"type": "_partial", "t": t, "text": text, "speaker": speaker}


def plain_display() -> tuple[TerminalDisplay, io.StringIO]:
    out = io.StringIO()
    return TerminalDisplay(NAMES, console=Console(file=out, force_terminal=False, width=100)), out


def live_display() -> tuple[TerminalDisplay, io.StringIO]:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100, height=30)
    return TerminalDisplay(NAMES, console=console), out


def frame(display: TerminalDisplay) -> str:
    screen = Console(record=True, width=100, height=30, file=io.StringIO())
    screen.print(display.render())
    return screen.export_text()


# -- plain log ----------------------------------------------------------------------------
def test_plain_prints_a_turn_once_and_no_interim_words():
    display, out = plain_display()
    assert display.live_mode is False
    display(step("send"))
    for words in ("I feel", "I feel lonely when", "I feel lonely when you work late"):
        display(partial(words))
    display(turn("A", "sender", "send", "I feel lonely when you work late. That's all."))
    log = out.getvalue()
    assert log.count("I feel") == 1
    assert log.count("SAM (Sender) ▸ I feel lonely when you work late. That's all.") == 1
    assert "…" not in log


def test_plain_banner_only_when_the_step_changes():
    display, out = plain_display()
    for _ in range(3):
        display(step("mirror"))
    display(step("confirm"))
    display(step("confirm"))
    display(step("mirror", round_=2, sender="B", receiver="A"))
    log = out.getvalue()
    assert log.count("MIRRORING") == 2          # round 1 once, round 2 once
    assert log.count("DID I GET THAT?") == 1
    assert "Sender: Alex" in log


def test_plain_out_of_turn_sender_is_labelled_by_the_role_they_have():
    display, out = plain_display()
    display(step("mirror"))               # Sam sends, Alex should mirror
    display(turn("A", "receiver", "mirror", "And I mean every night."))
    display(turn("B", "receiver", "mirror", "What I hear you saying is you feel lonely."))
    log = out.getvalue()
    assert "SAM (Sender, out of turn) ▸ And I mean every night." in log
    assert "SAM (receiver)" not in log and "SAM (Receiver" not in log
    assert "ALEX (Receiver) ▸ What I hear you saying is" in log


def test_plain_unknown_voice_or_unknown_roles_give_no_role():
    display, out = plain_display()
    display(turn("B", "sender", "appointment", "Before any step."))
    display(step("mirror"))
    display(turn(None, "receiver", "mirror", "Hello?"))
    assert "ALEX ▸ Before any step." in out.getvalue()
    assert "SOMEONE ▸ Hello?" in out.getvalue()


def test_plain_verdicts_interruptions_and_end():
    display, out = plain_display()
    display(step("mirror"))
    display({"type": "verdict", "t": 6, "kind": "mirror", "label": "partial", "passed": False,
             "missing": ["lonely", "late"]})
    display({"type": "interruption", "t": 7, "speaker": "A", "kind": "talk_over"})
    display({"type": "_timing", "turn": 1})
    display({"type": "end", "t": 70, "reason": "stopped"})
    log = out.getvalue()
    assert "✗ mirror: partial  (missing: lonely, late)" in log
    assert "Sam talked over the speaker" in log
    assert "SESSION ENDED (stopped)" in log and "1:10" in log


def test_plain_enrollment_and_coach_override():
    display, out = plain_display()
    display({"type": "enrollment", "t": 3, "speaker": "A", "ok": False, "problem": "too short"})
    display({"type": "enrollment", "t": 9, "speaker": "A", "ok": True, "problem": None})
    display({"type": "speakers", "t": 9, "method": "voice", "enrolled": ["A", "B"]})
    display({"type": "override", "t": 20, "kind": "mirror", "label": "mirror", "source": "coach"})
    log = out.getvalue()
    assert "✗ Sam's voice: too short" in log and "✓ Sam's voice learnt" in log
    assert "Voices learnt (voice)" in log and "[coach override: mirror mirror]" in log


def test_given_titles_replace_the_built_in_ones():
    out = io.StringIO()
    display = TerminalDisplay(NAMES, console=Console(file=out, force_terminal=False),
                              titles={"mirror": "Echo back"})
    display(step("mirror"))
    assert "ECHO BACK" in out.getvalue()


# -- live view ----------------------------------------------------------------------------
SESSION = {"type": "session", "t": 0, "id": "x", "names": NAMES, "script": "intentional_dialogue"}
ASK_MIRROR = "Alex, please mirror what Sam said, starting with 'What I hear you saying is'."


def test_live_view_shows_the_prompt_whose_turn_and_interim_words_in_place():
    display, _ = live_display()
    assert display.live_mode is True
    display(SESSION)
    assert display.live is not None and display.live.is_started
    display(step("send"))
    display({"type": "prompt", "t": 1, "text": "Sam, please tell Alex what is on your mind.",
             "key": "ask_message"})
    display(partial("I feel lonely"))
    display(partial("I feel lonely when you work"))
    shown = frame(display)
    assert "SENDER'S MESSAGE" in shown and "round 1" in shown
    assert "SAM" in shown and "Sender, your turn" in shown
    assert "Sam, please tell Alex what is on your mind." in shown
    assert shown.count("I feel lonely") == 1          # the latest interim words only
    assert "… I feel lonely when you work" in shown

    display(turn("A", "sender", "send", "I feel lonely when you work late. That's all."))
    display({"type": "verdict", "t": 6, "kind": "sender_statement", "label": "safe",
             "passed": True, "missing": []})
    display(step("mirror"))
    display({"type": "prompt", "t": 7, "text": ASK_MIRROR, "key": "ask_mirror"})
    display(partial("What I hear", speaker="B"))
    shown = frame(display)
    assert ASK_MIRROR in shown
    assert "MIRRORING" in shown and "ALEX" in shown and "Receiver, your turn" in shown
    assert "… What I hear" in shown and "… I feel" not in shown   # the old interim is gone
    assert "SAM (Sender)  I feel lonely when you work late." in shown   # in the last turns
    assert "✓ sender_statement: safe" in shown
    assert "say: repeat that · pause · stop" in shown
    display.close()


def test_live_view_clears_interim_words_when_the_turn_arrives():
    display, _ = live_display()
    display(SESSION)
    display(step("mirror"))
    display(partial("What I hear you", speaker="B"))
    display(turn("B", "receiver", "mirror", "What I hear you saying is..."))
    shown = frame(display)
    assert "…" not in shown
    assert "ALEX (Receiver)  What I hear you saying is..." in shown
    display.close()


def test_live_view_keeps_the_last_six_turns_newest_in_view():
    display, _ = live_display()
    display(SESSION)
    display(step("send"))
    for number in range(1, 10):
        display(turn("A", "sender", "send", f"Sentence number {number}.", t=float(number)))
    shown = frame(display)
    assert "Sentence number 9." in shown and "Sentence number 4." in shown
    assert "Sentence number 3." not in shown
    display.close()


def test_live_view_labels_an_out_of_turn_answer_by_real_role():
    display, _ = live_display()
    display(SESSION)
    display(step("mirror"))
    display(turn("A", "receiver", "mirror", "And I mean every night."))
    display({"type": "interruption", "t": 6, "speaker": "A", "kind": "wrong_speaker"})
    shown = frame(display)
    assert "SAM (Sender, out of turn)  And I mean every night." in shown
    assert "Sam answered out of turn" in shown
    display.close()


def test_live_view_draws_on_the_terminal_after_the_events():
    display, out = live_display()
    display(SESSION)
    display(step("mirror"))
    display({"type": "prompt", "t": 7, "text": ASK_MIRROR, "key": "ask_mirror"})
    deadline = time.monotonic() + 5.0
    while "What I hear you saying is" not in out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "What I hear you saying is" in out.getvalue()
    display.close()


def test_live_view_stops_at_end_and_close_is_safe_twice():
    display, out = live_display()
    display(SESSION)
    live = display.live
    assert live is not None and live.is_started
    display({"type": "end", "t": 30, "reason": "complete"})
    assert display.live is None and not live.is_started
    assert "SESSION ENDED (complete)" in out.getvalue()
    display.close()
    display.close()
    display({"type": "_spoken", "t": 31})          # nothing starts again after the end
    assert display.live is None


def test_live_view_pause_shows_in_the_now_panel_and_footer():
    display, _ = live_display()
    display(SESSION)
    display(step("mirror"))
    display({"type": "control", "t": 3, "action": "pause", "source": "voice"})
    shown = frame(display)
    assert "PAUSED" in shown and "say: resume · stop" in shown
    display({"type": "control", "t": 4, "action": "resume", "source": "voice"})
    assert "PAUSED" not in frame(display).split("last turns")[0]
    display.close()
