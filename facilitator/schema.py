"""The session record's schema: one small frozen dataclass per type of line.

Everything the facilitator writes to a record is one of these events; `to_dict()` gives the
line (`{"type", "t", **fields}`), `parse()` reads one back, and the README's record table
lists exactly these types and fields (tests/test_schema.py checks it).

    event = TurnEvent(t=12.5, speaker="A", confidence=0.9, speaker_method="voice",
                      role="sender", step="send", text="I feel...", start=9.0, end=12.2,
                      end_reason="silence")
    line = event.to_dict()            # what the record stores
    parse(line) == event              # True

Writing (`to_dict`), as records have always been written:
  - `t`, `start` and `end` are rounded to 3 decimals (milliseconds), `confidence` to 3,
    `voiced_s` and the `speaker_segments` bounds to 2, `snr_db` to 1;
  - a few fields are left out when they say nothing: `speaker_segments` when there are
    none, the enrollment's `text` when no words were heard and `gave_up` unless true,
    the session's `mode` and the turn's `act` unless set. Every other field is always written (null when None).

Reading (`parse`) is lenient, for old and hand-made records: an unknown type gives None,
unknown fields are ignored, a missing field is None (or its default), an old name is read
as the new one (a verdict's `try` as `attempt`), and values are taken as written, so a
reader still checks the values it relies on.

`shifted(event, offset)` moves `t`, `start` and `end` on by `offset`: the one place where a
resumed session's times are put after the record's last time.

Internal signals (interim words, timing, the prompt's audio) are not record events: see
`facilitator.signals`. This module imports nothing from the rest of the package.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping

TIMES = ("t", "start", "end")          # the session-time fields `shifted` moves

# Old field names still read: {type: {old name: field}}.
LEGACY_NAMES: dict[str, dict[str, str]] = {"verdict": {"try": "attempt"}}


def _digits(n: int) -> dict[str, Any]:
    return {"digits": n}


def _optional(default: Any = None, omit: str = "none", digits: int | None = None) -> Any:
    """A field left out of the line when it is None ("none") or empty/false ("empty")."""
    return field(default=default, metadata={"omit": omit, "digits": digits})


def _plain(value: Any, digits: int | None) -> Any:
    """JSON-ready: lists and dicts copied, floats rounded to `digits`, numpy scalars unwrapped."""
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    if isinstance(value, float):
        return round(float(value), digits) if digits is not None else float(value)
    if isinstance(value, Mapping):
        return {key: _plain(item, digits) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item, digits) for item in value]
    if hasattr(value, "item") and not hasattr(value, "__len__"):      # a numpy scalar
        return _plain(value.item(), digits)
    if hasattr(value, "tolist"):                                      # a numpy array
        return _plain(value.tolist(), digits)
    return value


@dataclass(frozen=True, kw_only=True)
class RecordEvent:
    """One line of the record; `type` is the line's "type", `t` seconds since the start."""

    type: ClassVar[str] = ""
    t: float = field(metadata=_digits(3))

    def to_dict(self) -> dict[str, Any]:
        line: dict[str, Any] = {"type": self.type}
        for spec in dataclasses.fields(self):
            value = getattr(self, spec.name)
            omit = spec.metadata.get("omit")
            if (omit == "none" and value is None) or (omit == "empty" and not value):
                continue
            digits = spec.metadata.get("digits")
            if spec.name in TIMES and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            line[spec.name] = _plain(value, digits)
        return line


@dataclass(frozen=True, kw_only=True)
class SessionEvent(RecordEvent):
    type: ClassVar[str] = "session"
    id: str
    started: str                       # ISO time
    names: dict[str, str]              # {"A": ..., "B": ...}
    script: str
    input: str
    mode: str | None = _optional()


@dataclass(frozen=True, kw_only=True)
class StepEvent(RecordEvent):
    type: ClassVar[str] = "step"
    name: str
    round: int
    sender: str
    receiver: str
    messages: list[str]


@dataclass(frozen=True, kw_only=True)
class PromptEvent(RecordEvent):
    type: ClassVar[str] = "prompt"
    text: str
    key: str


@dataclass(frozen=True, kw_only=True)
class EnrollmentEvent(RecordEvent):
    type: ClassVar[str] = "enrollment"
    speaker: str
    attempt: int
    ok: bool
    problem: str | None
    reason: str | None
    voiced_s: float = field(metadata=_digits(2))
    snr_db: float = field(metadata=_digits(1))
    gave_up: bool = _optional(False, omit="empty")
    text: str | None = _optional()


@dataclass(frozen=True, kw_only=True)
class SpeakersEvent(RecordEvent):
    type: ClassVar[str] = "speakers"
    method: str
    model: str
    enrolled: list[str]
    failed: list[str]


@dataclass(frozen=True, kw_only=True)
class TurnEvent(RecordEvent):
    type: ClassVar[str] = "turn"
    speaker: str | None
    confidence: float | None = field(metadata=_digits(3))
    speaker_method: str
    speaker_segments: list[list[Any]] | None = _optional(omit="empty", digits=2)
    role: str
    step: str
    text: str
    start: float = field(metadata=_digits(3))
    end: float = field(metadata=_digits(3))
    end_reason: str
    act: str | None = _optional()      # what the turn does (`facilitator analyze` only)


@dataclass(frozen=True, kw_only=True)
class VerdictEvent(RecordEvent):
    type: ClassVar[str] = "verdict"
    kind: str
    label: str
    score: float | None
    missing: list[str]
    intrusions: list[str]
    passed: bool
    step: str
    round: int
    attempt: int
    reason: str = _optional("", omit="empty")                # what is wrong (`cases.REASONS`)
    detail: dict[str, str] | None = _optional(omit="empty")  # the words the feedback quotes


@dataclass(frozen=True, kw_only=True)
class ControlEvent(RecordEvent):
    type: ClassVar[str] = "control"
    action: str
    source: str


@dataclass(frozen=True, kw_only=True)
class OverrideEvent(RecordEvent):
    type: ClassVar[str] = "override"
    kind: str | None
    label: str | None
    source: str


@dataclass(frozen=True, kw_only=True)
class InterruptionEvent(RecordEvent):
    type: ClassVar[str] = "interruption"
    speaker: str | None
    start: float = field(metadata=_digits(3))
    end: float = field(metadata=_digits(3))
    kind: str
    step: str | None


@dataclass(frozen=True, kw_only=True)
class ErrorEvent(RecordEvent):
    type: ClassVar[str] = "error"
    message: str


@dataclass(frozen=True, kw_only=True)
class ResumeEvent(RecordEvent):
    type: ClassVar[str] = "resume"
    input: str


@dataclass(frozen=True, kw_only=True)
class EndEvent(RecordEvent):
    type: ClassVar[str] = "end"
    reason: str


RECORD_TYPES: dict[str, type[RecordEvent]] = {cls.type: cls for cls in (
    SessionEvent, StepEvent, PromptEvent, EnrollmentEvent, SpeakersEvent, TurnEvent,
    VerdictEvent, ControlEvent, OverrideEvent, InterruptionEvent, ErrorEvent, ResumeEvent,
    EndEvent)}


def field_names(cls: type[RecordEvent]) -> list[str]:
    """The fields of a record type, `t` first, in the order a line has them."""
    return [spec.name for spec in dataclasses.fields(cls)]


def parse(data: Any) -> RecordEvent | None:
    """The typed event of a record line (a dict), or None when it is no known record type.

    A typed event is given back as it is. See the module's notes on leniency."""
    if isinstance(data, RecordEvent):
        return data
    if not isinstance(data, Mapping):
        return None
    kind = data.get("type")
    cls = RECORD_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        return None
    old_names = {new: old for old, new in LEGACY_NAMES.get(kind, {}).items()}
    values: dict[str, Any] = {}
    for spec in dataclasses.fields(cls):
        if spec.name in data:
            values[spec.name] = data[spec.name]
        elif spec.name in old_names and old_names[spec.name] in data:
            values[spec.name] = data[old_names[spec.name]]
        elif spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
            values[spec.name] = None
    return cls(**values)


def _moved(value: Any, offset: float) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value + offset
    return value


def shifted(event: Any, offset: float) -> Any:
    """The event with its session times (`t`, `start`, `end`) moved on by `offset`.

    For a typed event a new one; a dict (an event not yet typed) gives a new dict. Times
    within a turn (`speaker_segments`) are relative to the turn and stay as they are."""
    if not offset:
        return event
    if isinstance(event, RecordEvent):
        names = {spec.name for spec in dataclasses.fields(event)}
        return dataclasses.replace(event, **{name: _moved(getattr(event, name), offset)
                                             for name in TIMES if name in names})
    if isinstance(event, Mapping):
        return {**event, **{name: _moved(event[name], offset) for name in TIMES if name in event}}
    raise TypeError(f"not an event: {event!r}")
