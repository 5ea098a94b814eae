"""A made-up but realistic session record, for tests, demos and trying the report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

Event = dict[str, Any]


class _Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def advance(self, seconds: float) -> float:
        self.t = round(self.t + seconds, 2)
        return self.t


def sample_events(session_id: str = "20261121-153000", started: str = "2026-11-21T15:30:00+00:00",
                  complete: bool = True, first_mirror_ok: bool = False, input: str = "microphone",
                  names: dict[str, str] | None = None) -> list[Event]:
    """Two rounds of the Intentional Dialogue between Alex (A) and Sam (B), or `names`.

    `input` is the session event's: "microphone" for a live session, "demo" for one of
    `facilitator demo`."""
    clock = _Clock()
    events: list[Event] = [{"type": "session", "t": 0.0, "id": session_id, "started": started,
                            "names": dict(names or {"A": "Alex", "B": "Sam"}),
                            "script": "intentional_dialogue", "input": input}]

    def step(name: str, round_: int, sender: str, receiver: str) -> None:
        events.append({"type": "step", "t": clock.advance(0.5), "name": name, "round": round_,
                       "sender": sender, "receiver": receiver})

    def prompt(text: str, key: str) -> None:
        events.append({"type": "prompt", "t": clock.advance(0.2), "text": text, "key": key})
        clock.advance(2.5)

    def turn(speaker: str, role: str, step_name: str, text: str, seconds: float) -> None:
        start = clock.advance(0.8)
        end = clock.advance(seconds)
        events.append({"type": "turn", "t": clock.advance(0.3), "speaker": speaker, "confidence": 0.9,
                       "role": role, "step": step_name, "text": text, "start": start, "end": end})

    def verdict(kind: str, label: str, score: float, step_name: str, round_: int, try_: int = 1,
                missing: list[str] | None = None) -> None:
        events.append({"type": "verdict", "t": clock.advance(0.4), "kind": kind, "label": label,
                       "score": score, "missing": missing or [], "intrusions": [], "attempt": try_,
                       "step": step_name, "round": round_})

    step("appointment", 1, "A", "B")
    prompt("Alex, is now a good time for a dialogue?", "appointment")
    turn("B", "receiver", "appointment", "Yes, I'm available now.", 2.0)
    step("send", 1, "A", "B")
    prompt("Alex, please share what is on your mind.", "send")
    turn("A", "sender", "send", "I feel tired when I come home and the kitchen is a mess, because I worked all day.", 7.5)
    verdict("sender_statement", "safe", 1.0, "send", 1)
    step("mirror", 1, "A", "B")
    prompt("Sam, please mirror: what I hear you saying is...", "mirror")
    if first_mirror_ok:
        turn("B", "receiver", "mirror", "What I hear you saying is you feel tired when you come home and the kitchen is a mess because you worked all day. Did I get that?", 8.0)
        verdict("mirror", "mirror", 0.95, "mirror", 1)
    else:
        turn("B", "receiver", "mirror", "What I hear you saying is the kitchen is a mess. Did I get that?", 4.0)
        verdict("mirror", "partial", 0.5, "mirror", 1, missing=["tired", "worked", "day"])
        prompt("Almost. Alex, what did Sam miss?", "retry")
        turn("A", "sender", "mirror", "That I'm tired because I worked all day.", 3.0)
        turn("B", "receiver", "mirror", "What I hear you saying is you feel tired when you come home to a messy kitchen, because you worked all day. Did I get that?", 7.0)
        verdict("mirror", "mirror", 0.92, "mirror", 1, try_=2)
    events.append({"type": "interruption", "t": clock.advance(0.5), "speaker": "B",
                   "start": clock.t - 0.5, "end": clock.t})
    step("more", 1, "A", "B")
    prompt("Is there more?", "ask_more")
    turn("A", "sender", "more", "Yes. I would like us to clean up together after dinner.", 4.5)
    step("mirror", 1, "A", "B")
    turn("B", "receiver", "mirror", "What I hear you saying is you would like us to clean up together after dinner.", 5.0)
    verdict("mirror", "mirror", 1.0, "mirror", 1)
    step("summary", 1, "A", "B")
    prompt("Sam, please sum up everything Alex said.", "summary")
    turn("B", "receiver", "summary", "Let me see if I got it all: you come home tired after working all day, the messy kitchen is hard, and you'd like us to clean together after dinner.", 9.0)
    verdict("summary", "complete", 0.88, "summary", 1)
    step("validate", 1, "A", "B")
    prompt("Sam, can you say how it makes sense?", "validate")
    turn("B", "receiver", "validate", "You make sense, but I also work.", 3.0)
    verdict("validation", "not_valid", 0.0, "validate", 1)
    events.append({"type": "control", "t": clock.advance(1.0), "action": "pause", "source": "coach"})
    events.append({"type": "control", "t": clock.advance(20.0), "action": "resume", "source": "coach"})
    turn("B", "receiver", "validate", "It makes sense to me that you feel that way, because you worked all day.", 5.0)
    verdict("validation", "valid", 1.0, "validate", 1, try_=2)
    step("empathize", 1, "A", "B")
    prompt("Sam, how might Alex be feeling?", "empathize")
    turn("B", "receiver", "empathize", "I imagine you feel exhausted and alone.", 3.5)
    verdict("empathy", "empathic", 1.0, "empathize", 1)
    step("switch", 1, "A", "B")
    prompt("Now let's switch roles.", "switch")
    step("send", 2, "B", "A")
    turn("B", "sender", "send", "I feel rushed in the evenings and I want some quiet time.", 5.0)
    verdict("sender_statement", "safe", 1.0, "send", 2)
    step("mirror", 2, "B", "A")
    turn("A", "receiver", "mirror", "What I hear you saying is you feel rushed in the evenings and want quiet time.", 5.5)
    verdict("mirror", "partial", 0.7, "mirror", 2, missing=["some"])
    events.append({"type": "override", "t": clock.advance(1.0), "kind": "mirror", "label": "mirror",
                   "source": "coach"})
    if not complete:
        events.append({"type": "end", "t": clock.advance(2.0), "reason": "stopped"})
        return events
    step("summary", 2, "B", "A")
    turn("A", "receiver", "summary", "So in the evenings you feel rushed and you want quiet time.", 5.0)
    verdict("summary", "complete", 0.9, "summary", 2)
    step("validate", 2, "B", "A")
    turn("A", "receiver", "validate", "It makes sense because the evenings are busy.", 3.0)
    verdict("validation", "valid", 1.0, "validate", 2)
    step("empathize", 2, "B", "A")
    turn("A", "receiver", "empathize", "I imagine you feel overwhelmed.", 2.5)
    verdict("empathy", "empathic", 1.0, "empathize", 2)
    step("appreciate", 2, "B", "A")
    turn("A", "sender", "appreciate", "I appreciate that you listened to me tonight.", 3.5)
    turn("B", "sender", "appreciate", "I appreciate that you made time for this.", 3.0)
    step("close", 2, "B", "A")
    prompt("Thank you both.", "close")
    events.append({"type": "end", "t": clock.advance(1.0), "reason": "complete"})
    return events


def write_sample(path: str | Path, torn: bool = False, **options: Any) -> Path:
    """Write `sample_events(**options)` as a JSON Lines record; `torn` cuts the last line short."""
    path = Path(path)
    lines = [json.dumps(e) for e in sample_events(**options)]
    text = "\n".join(lines) + "\n"
    if torn:
        text += '{"type": "turn", "t": 999.0, "speaker": "A", "te'
    path.write_text(text, encoding="utf-8")
    return path
