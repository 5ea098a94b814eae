"""One record schema: typed events for every record line, signals on their own channel.

Every type goes to a line and back unchanged; lines as the session writes them read back as
the right types and write out again key for key; the resume offset moves t, start and end;
the README's record table lists exactly the schema's types and fields; the record and the
coach view never receive a signal.
"""

from __future__ import annotations

import ast
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from facilitator import schema, signals
from facilitator.display import TerminalDisplay
from facilitator.events import ControlQueue, EventBus, as_dict
from facilitator.record import RecordWriter, new_session_event, session_event
from facilitator.review.analysis import analyse
from facilitator.review.record import read_record
from facilitator.review.sample import sample_events, write_sample
from facilitator.schema import (RECORD_TYPES, ControlEvent, EndEvent, EnrollmentEvent,
                                ErrorEvent, InterruptionEvent, OverrideEvent, PromptEvent,
                                ResumeEvent, SessionEvent, SpeakersEvent, StepEvent, TurnEvent,
                                VerdictEvent, field_names, parse, shifted)
from facilitator.signals import Dropped, Listening, Partial, Ready, Spoken, Timing
from facilitator.view.server import CoachView

README = Path(__file__).resolve().parent.parent / "README.md"

# One of each type with every field set (values already rounded as a line has them).
EXAMPLES = [
    SessionEvent(t=0.0, id="20261201-141502-9f3c", started="2026-12-01T14:15:02+00:00",
                 names={"A": "Alex", "B": "Sam"}, script="intentional_dialogue",
                 input="microphone", mode="practice"),
    StepEvent(t=1.5, name="mirror", round=1, sender="A", receiver="B",
              messages=["I feel tired."]),
    PromptEvent(t=1.6, text="Sam, please mirror.", key="mirror"),
    EnrollmentEvent(t=3.2, speaker="A", attempt=3, ok=False, problem="too noisy",
                    reason="the room is loud", voiced_s=4.25, snr_db=6.5, gave_up=True,
                    text="My day was long."),
    SpeakersEvent(t=9.0, method="voice", model="campplus", enrolled=["A", "B"], failed=[]),
    TurnEvent(t=12.345, speaker="B", confidence=0.912, speaker_method="voice",
              speaker_segments=[[0.0, 2.5, "B"], [2.5, 3.1, "A"]], role="receiver",
              step="mirror", text="What I hear you saying is...", start=9.1, end=12.2,
              end_reason="silence", act="mirror"),
    VerdictEvent(t=12.5, kind="mirror", label="partial", score=0.5, missing=["tired"],
                 intrusions=["but"], passed=False, step="mirror", round=1, attempt=2),
    ControlEvent(t=13.0, action="pause", source="coach"),
    OverrideEvent(t=14.0, kind="mirror", label="mirror", source="coach"),
    InterruptionEvent(t=15.0, speaker="A", start=13.2, end=14.0, kind="talk_over",
                      step="mirror"),
    ErrorEvent(t=16.0, message="could not play the prompt"),
    ResumeEvent(t=16.5, input="microphone"),
    EndEvent(t=20.0, reason="complete"),
]

# Lines exactly as the live loop writes them today (key order included).
TODAYS_LINES = [
    {"type": "session", "t": 0.0, "id": "x", "started": "2026-12-01T14:15:02+00:00",
     "names": {"A": "Alex", "B": "Sam"}, "script": "intentional_dialogue", "input": "demo"},
    {"type": "step", "t": 0.0, "name": "appointment", "round": 1, "sender": "A",
     "receiver": "B", "messages": []},
    {"type": "prompt", "t": 0.0, "text": "Alex, is now a good time?", "key": "appointment"},
    {"type": "enrollment", "t": 5.1, "speaker": "A", "attempt": 1, "ok": True, "problem": None,
     "reason": None, "voiced_s": 6.12, "snr_db": 21.4, "text": "It was fine."},
    {"type": "enrollment", "t": 9.0, "speaker": "B", "attempt": 3, "ok": False,
     "problem": "silent", "reason": "nothing was heard", "voiced_s": 0.0, "snr_db": 0.0,
     "gave_up": True},
    {"type": "speakers", "t": 9.0, "method": "voice", "model": "gmm", "enrolled": ["A"],
     "failed": ["B"]},
    {"type": "turn", "t": 4.2, "speaker": "B", "confidence": None, "speaker_method": "turn_order",
     "role": "receiver", "step": "appointment", "text": "Yes.", "start": 3.03, "end": 3.9,
     "end_reason": "complete"},
    {"type": "turn", "t": 14.0, "speaker": "A", "confidence": 0.87, "speaker_method": "voice",
     "speaker_segments": [[0.0, 3.12, "A"]], "role": "sender", "step": "send",
     "text": "I feel tired.", "start": 10.5, "end": 13.62, "end_reason": "cue"},
    {"type": "interruption", "t": 14.0, "speaker": "B", "start": 11.0, "end": 11.9,
     "kind": "talk_over", "step": "send"},
    {"type": "verdict", "t": 14.0, "kind": "sender_statement", "label": "safe", "score": 1.0,
     "missing": [], "intrusions": [], "passed": True, "step": "send", "round": 1, "attempt": 1},
    {"type": "control", "t": 15.0, "action": "override", "source": "coach"},
    {"type": "override", "t": 15.0, "kind": "mirror", "label": None, "source": "coach"},
    {"type": "error", "t": 16.0, "message": "internal error: ValueError: x"},
    {"type": "resume", "t": 16.0, "input": "microphone"},
    {"type": "end", "t": 20.0, "reason": "stopped"},
]


# -- the types ----------------------------------------------------------------------------
def test_every_type_has_an_example_and_names_end_in_event():
    assert {type(e) for e in EXAMPLES} == set(RECORD_TYPES.values())
    assert all(cls.__name__.endswith("Event") and cls.type == kind
               for kind, cls in RECORD_TYPES.items())


@pytest.mark.parametrize("event", EXAMPLES, ids=lambda e: e.type)
def test_round_trip(event):
    line = json.loads(json.dumps(event.to_dict()))
    assert list(line)[:2] == ["type", "t"] and line["type"] == event.type
    assert parse(line) == event
    assert parse(event) is event


@pytest.mark.parametrize("line", TODAYS_LINES, ids=lambda d: d["type"])
def test_todays_lines_read_as_their_type_and_write_back_key_for_key(line):
    event = parse(line)
    assert type(event) is RECORD_TYPES[line["type"]]
    assert json.dumps(event.to_dict()) == json.dumps(line)


def test_the_sample_record_reads_as_typed_events(tmp_path):
    events = sample_events()
    typed = [parse(e) for e in events]
    assert all(t is not None and t.type == e["type"] for t, e in zip(typed, events))
    assert read_record(write_sample(tmp_path / "s.jsonl")).typed() == typed


def test_lenient_reading():
    assert parse({"type": "_timing", "t": 1.0}) is None
    assert parse({"type": "future_thing", "t": 1.0}) is None
    assert parse({"t": 1.0}) is None and parse(["turn"]) is None and parse(None) is None
    verdict = parse({"type": "verdict", "t": 2, "try": 2, "label": "mirror", "extra": 1})
    assert verdict.attempt == 2 and verdict.label == "mirror" and verdict.kind is None
    assert not hasattr(verdict, "extra")
    enrollment = parse({"type": "enrollment", "t": 1.0, "speaker": "A"})
    assert enrollment.gave_up is False and enrollment.text is None and enrollment.ok is None


def test_writing_rounds_and_leaves_out_what_says_nothing():
    turn = TurnEvent(t=1.23456, speaker=None, confidence=np.float32(0.91234),
                     speaker_method="turn_order", speaker_segments=[], role="sender",
                     step="send", text="hi", start=1, end=2.00049, end_reason="cue")
    line = turn.to_dict()
    assert line["t"] == 1.235 and line["start"] == 1.0 and line["end"] == 2.0
    assert line["confidence"] == 0.912 and "speaker_segments" not in line
    assert line["speaker"] is None
    segments = TurnEvent(**{**_fields(turn), "speaker_segments": [(0.123, 1.456, "A")]})
    assert segments.to_dict()["speaker_segments"] == [[0.12, 1.46, "A"]]
    enrollment = EnrollmentEvent(t=1.0, speaker="A", attempt=1, ok=True, problem=None,
                                 reason=None, voiced_s=6.123, snr_db=21.44)
    assert enrollment.to_dict() == {"type": "enrollment", "t": 1.0, "speaker": "A",
                                    "attempt": 1, "ok": True, "problem": None, "reason": None,
                                    "voiced_s": 6.12, "snr_db": 21.4}
    session = new_session_event("id", {"A": "Alex", "B": "Sam"}, "intentional_dialogue", "demo")
    assert "mode" not in session.to_dict()
    assert list(session_event("id", {}, "s", "demo")) == ["type", "t", "id", "started", "names",
                                                          "script", "input"]


def _fields(event) -> dict:
    return {name: getattr(event, name) for name in field_names(type(event))}


# -- the resume offset ----------------------------------------------------------------------
def test_shifted_moves_t_start_and_end_only():
    turn = next(e for e in EXAMPLES if isinstance(e, TurnEvent))
    moved = shifted(turn, 100.0)
    assert (moved.t, moved.start, moved.end) == (turn.t + 100, turn.start + 100, turn.end + 100)
    assert moved.speaker_segments == turn.speaker_segments and moved.text == turn.text
    assert moved.to_dict()["t"] == 112.345
    prompt = shifted(PromptEvent(t=1.0, text="x", key="k"), 2.5)
    assert prompt == PromptEvent(t=3.5, text="x", key="k")
    assert shifted(turn, 0) is turn
    assert shifted({"type": "interruption", "t": 1.0, "start": 0.5, "kind": "x"}, 10) == \
        {"type": "interruption", "t": 11.0, "start": 10.5, "kind": "x"}
    assert shifted(parse({"type": "end", "reason": "x"}), 5).t is None   # no time: left alone


# -- the README -----------------------------------------------------------------------------
def _items(cell: str) -> list[str]:
    """A table cell split at the commas outside (), [] and {}."""
    items, depth, current = [], 0, ""
    for char in cell:
        depth += char in "([{"
        depth -= char in ")]}"
        if char == "," and depth == 0:
            items.append(current)
            current = ""
        else:
            current += char
    return items + [current]


def record_table(readme: str) -> dict[str, set[str]]:
    """The README's record table: type -> field names. A field is an item of the fields
    cell that starts with a backticked name; everything else in the cell is prose."""
    section = readme.split("## The session record", 1)[1].split("\n## ", 1)[0]
    table: dict[str, set[str]] = {}
    for row in re.findall(r"^\| `(\w+)` \| (.*) \|$", section, re.MULTILINE):
        kind, cell = row
        assert kind not in table, f"{kind} is listed twice"
        table[kind] = {m.group(1) for item in _items(cell)
                       if (m := re.match(r"\s*`(\w+)`", item))}
    return table


def test_record_table_convention():
    cell = '`t` 0, `names` {"A","B"}, `segments` [[start, end], ...] (a, `b`), not `c`, `d`: x, y'
    assert {m.group(1) for i in _items(cell) if (m := re.match(r"\s*`(\w+)`", i))} == \
        {"t", "names", "segments", "d"}


def test_readme_record_table_lists_exactly_the_schema():
    table = record_table(README.read_text(encoding="utf-8"))
    assert set(table) == set(RECORD_TYPES)
    extra = {k: table[k] - set(field_names(cls)) for k, cls in RECORD_TYPES.items()}
    assert not any(extra.values()), f"the README lists fields the schema lacks: {extra}"
    missing = {k: set(field_names(cls)) - table[k] for k, cls in RECORD_TYPES.items()}
    missing = {k: v for k, v in missing.items() if v}
    assert not missing, f"the README's record table lacks fields: {missing}"


# -- the schema stands alone ------------------------------------------------------------------
@pytest.mark.parametrize("module", [schema, signals])
def test_schema_and_signals_import_nothing_from_the_package(module):
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    imported = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [name for name in imported if name and name.startswith("facilitator")]


# -- two channels -------------------------------------------------------------------------------
SIGNALS = [Partial(t=1.0, text="I feel", speaker="A"), Listening(t=2.0, after=2.5, step="send"),
           Spoken(t=0.5, text="Welcome", started=10.0, duration=1.0, audio=np.zeros(160), rate=16000),
           Ready(t=0.0), Timing(fields={"turn": 1, "decided": 3.0}),
           Dropped(t=4.0, reason="noise", start=3.5, end=3.6)]


def test_signals_go_only_to_signal_listeners():
    bus, records, sigs = EventBus(), [], []
    bus.subscribe(records.append)
    bus.subscribe_signals(sigs.append)
    for signal in SIGNALS:
        bus.signal(signal)
    bus.publish(SIGNALS[0])                       # publish hands a signal to `signal`
    bus.publish(EXAMPLES[1])
    assert records == [EXAMPLES[1]]
    assert sigs == SIGNALS + [SIGNALS[0]]
    assert signals.parse_signal(SIGNALS[0].to_dict()) == SIGNALS[0]
    assert as_dict(SIGNALS[4]) == {"type": "_timing", "turn": 1, "decided": 3.0}


def test_old_dict_signals_reach_each_listener_once():
    """Transition: "_..." dicts still reach listeners subscribed with `subscribe`."""
    bus, old, both, sigs = EventBus(), [], [], []
    bus.subscribe(old.append)
    bus.subscribe(both.append)
    bus.subscribe_signals(both.append)
    bus.subscribe_signals(sigs.append)
    listening = {"type": "_listening", "t": 1.0, "after": 1.2, "step": "send"}
    bus.publish(listening)
    bus.publish({"type": "step", "t": 1.0, "name": "send"})
    assert old == [listening, {"type": "step", "t": 1.0, "name": "send"}]
    assert both == [listening, {"type": "step", "t": 1.0, "name": "send"}]
    assert sigs == [listening]
    bus.unsubscribe(both.append)
    bus.publish(listening)
    assert len(both) == 2


def test_the_record_and_the_coach_view_never_receive_signals(tmp_path):
    bus = EventBus()
    path = tmp_path / "sessions" / "r.jsonl"
    writer = RecordWriter(path, sync=False)
    bus.subscribe(writer)
    view = CoachView(bus, ControlQueue())        # listens without serving
    seen = []
    bus.subscribe(seen.append)
    for event in EXAMPLES:
        bus.publish(event)
        for signal in SIGNALS:
            bus.signal(signal)
            bus.publish(signal.to_dict())        # the old form too
    writer.close()
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert lines == [json.loads(json.dumps(e.to_dict())) for e in EXAMPLES]
    assert view.events == lines
    assert not any(isinstance(e, signals.Signal) for e in seen)
    view.stop()


def test_record_writer_writes_typed_and_dict_events_alike(tmp_path):
    writer = RecordWriter(tmp_path / "r.jsonl", sync=False)
    writer(TODAYS_LINES[7])
    writer(parse(TODAYS_LINES[7]))
    writer.close()
    first, second = (tmp_path / "r.jsonl").read_text(encoding="utf-8").splitlines()
    assert first == second == json.dumps(TODAYS_LINES[7], ensure_ascii=False)


# -- readers of the types ---------------------------------------------------------------------
def test_the_display_takes_typed_events_and_signals():
    def show(events) -> str:
        out = io.StringIO()
        display = TerminalDisplay({"A": "Sam", "B": "Alex"},
                                  console=Console(file=out, force_terminal=False, width=100))
        for event in events:
            display(event)
        return out.getvalue()

    typed = [StepEvent(t=1.0, name="send", round=1, sender="A", receiver="B", messages=[]),
             Ready(t=1.0), Partial(t=2.0, text="I feel", speaker="A"),
             parse(TODAYS_LINES[7]), SIGNALS[2], EndEvent(t=20.0, reason="complete")]
    assert show(typed) == show([as_dict(e) for e in typed])
    assert "SAM (Sender) ▸ I feel tired." in show(typed) and "Ready, listening" in show(typed)


def test_review_reads_typed_events_as_it_reads_lines():
    lines = sample_events(complete=False)
    typed = [parse(e) for e in lines]
    assert analyse(typed, "x") == analyse(lines, "x")
    session = analyse(lines + [{"type": "future_thing", "t": 999.0}], "x")
    assert session.duration == analyse(lines, "x").duration      # unknown types are not used
    assert all(isinstance(i, InterruptionEvent) for i in session.interruptions)
    assert all(isinstance(c, ControlEvent) for c in session.controls)
