"""From a session's events to what a couple and their coach want to know.

`analyse(events)` builds a `Session`: the turns with who spoke and in which step, each
judged exchange (a mirror and its retries, a summary, a validation...) with overrides
applied, the steps visited, talk time per partner and the weak spots that homework
suggestions are chosen by. It only reads events; it never needs the audio.

The events are the record's types (`facilitator.schema`); record lines (dicts) are read
with `schema.parse`, and lines of a type it does not know are passed over. Old and
hand-made records may lack fields or hold odd values, so every value is checked here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

from facilitator import schema
from facilitator.judging import PASSING_LABELS
from facilitator.schema import (ControlEvent, EndEvent, ErrorEvent, InterruptionEvent,
                                OverrideEvent, RecordEvent, SessionEvent, StepEvent, TurnEvent,
                                VerdictEvent)

Event = dict[str, Any]

# The label a coach's "that verdict was wrong" turns a passing or failing verdict into.
FAILING_LABELS = {
    "mirror": "not_mirror",
    "summary": "not_summary",
    "validation": "not_valid",
    "empathy": "not_empathic",
    "sender_statement": "blaming",
}

UNKNOWN = "?"


def is_passing(kind: str, label: str) -> bool:
    """Whether a verdict label counts as the step done well."""
    return label in PASSING_LABELS.get(kind, set())


def flipped_label(kind: str, label: str) -> str:
    """The opposite verdict, for a coach marking `label` wrong."""
    if is_passing(kind, label):
        return FAILING_LABELS.get(kind, "not_" + kind)
    passing = sorted(PASSING_LABELS.get(kind, {kind}))
    return passing[0]


@dataclass
class Turn:
    """One partner's stretch of speech, as transcribed."""

    t: float
    speaker: str            # "A", "B" or "?" when the speaker was not known
    name: str
    role: str
    step: str
    round: int
    text: str
    start: float
    end: float
    confidence: float | None = None

    @property
    def duration(self) -> float:
        return max(0.0, self.end - self.start)


@dataclass
class Attempt:
    """One verdict: a single try at a mirror, summary, validation, ..."""

    t: float
    kind: str
    label: str
    score: float | None
    missing: list[str]
    intrusions: list[str]
    number: int             # the try: 1, 2, ...
    step: str
    round: int
    reply: str              # the turn that was judged, if one came before the verdict
    original_label: str | None = None   # set when a coach overrode the verdict
    reason: str = ""        # what was wrong, when the judge named it (e.g. actor, negation)
    detail: dict[str, str] = field(default_factory=dict)   # the words the feedback quoted

    @property
    def passed(self) -> bool:
        return is_passing(self.kind, self.label)

    @property
    def overridden(self) -> bool:
        return self.original_label is not None


@dataclass
class Exchange:
    """A judged step and all the tries it took (a mirror and its retries)."""

    kind: str
    round: int
    sender: str
    receiver: str
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def tries(self) -> int:
        """Tries until it passed, or all of them when it never did."""
        for index, attempt in enumerate(self.attempts, start=1):
            if attempt.passed:
                return index
        return len(self.attempts)

    @property
    def passed(self) -> bool:
        return any(a.passed for a in self.attempts)

    @property
    def first_try(self) -> bool:
        return bool(self.attempts) and self.attempts[0].passed

    @property
    def missed(self) -> list[str]:
        """What was missing, gathered over all tries, in first-seen order."""
        seen: dict[str, None] = {}
        for attempt in self.attempts:
            for word in attempt.missing:
                seen.setdefault(str(word), None)
        return list(seen)


@dataclass
class StepVisit:
    """A step of the script as it was reached, and how it ended."""

    name: str
    round: int
    sender: str
    receiver: str
    t: float
    status: str = "unfinished"   # "done" | "skipped" | "unfinished"


@dataclass
class Session:
    """Everything a report or the history needs about one session."""

    id: str
    started: datetime | None
    names: dict[str, str]
    script: str
    input: str
    duration: float
    end_reason: str | None
    turns: list[Turn]
    exchanges: list[Exchange]
    steps: list[StepVisit]
    interruptions: list[InterruptionEvent]
    errors: list[str]
    controls: list[ControlEvent]
    mode: str | None = None      # "analysis": a recording reviewed by `facilitator analyze`

    @property
    def analysed(self) -> bool:
        return self.mode == "analysis"

    def name(self, speaker: str | None) -> str:
        if speaker in self.names:
            return self.names[speaker]
        return "Unknown speaker" if speaker in (None, UNKNOWN) else str(speaker)

    @property
    def partners(self) -> list[str]:
        """The speakers to show: A and B, plus "?" if some turns had no known speaker."""
        keys = list(self.names) or ["A", "B"]
        if any(turn.speaker not in keys for turn in self.turns):
            keys.append(UNKNOWN)
        return keys

    def talk_time(self) -> dict[str, float]:
        totals = {key: 0.0 for key in self.partners}
        for turn in self.turns:
            totals[turn.speaker] = totals.get(turn.speaker, 0.0) + turn.duration
        return totals

    def turn_counts(self) -> dict[str, int]:
        counts = {key: 0 for key in self.partners}
        for turn in self.turns:
            counts[turn.speaker] = counts.get(turn.speaker, 0) + 1
        return counts

    def of_kind(self, kind: str) -> list[Exchange]:
        return [e for e in self.exchanges if e.kind == kind and e.attempts]

    @property
    def mirrors(self) -> list[Exchange]:
        return self.of_kind("mirror")

    @property
    def first_try_rate(self) -> float | None:
        """Share of mirrors right at the first try; None when there were no mirrors."""
        mirrors = self.mirrors
        if not mirrors:
            return None
        return sum(m.first_try for m in mirrors) / len(mirrors)

    @property
    def mean_tries(self) -> float | None:
        mirrors = self.mirrors
        if not mirrors:
            return None
        return sum(m.tries for m in mirrors) / len(mirrors)

    @property
    def completed(self) -> bool:
        return self.end_reason == "complete"

    def steps_done(self) -> list[StepVisit]:
        return [s for s in self.steps if s.status == "done"]

    def weaknesses(self) -> list[str]:
        """Weak spots, as the keys prompts/homework.toml entries are chosen by."""
        weak: list[str] = []
        rate = self.first_try_rate
        if rate is not None and rate < 0.6:
            weak.append("mirror_first_try")
        if any(len(a.missing) >= 2 for m in self.mirrors for a in m.attempts):
            weak.append("mirror_detail")
        if any(not e.passed for e in self.of_kind("summary")):
            weak.append("summary")
        if any(not e.first_try for e in self.of_kind("validation")):
            weak.append("because")
        if any(not e.first_try for e in self.of_kind("empathy")):
            weak.append("empathy")
        if any(not a.passed for e in self.of_kind("sender_statement") for a in e.attempts):
            weak.append("blame")
        if not any(turn.step in ("appreciate", "appreciation") for turn in self.turns):
            weak.append("appreciations")
        talk = self.talk_time()
        total = sum(talk.values())
        if total >= 60 and max(talk.values()) / total > 0.65:
            weak.append("balance")
        if len(self.interruptions) >= 2:
            weak.append("interrupting")
        if not self.completed and not self.analysed:   # a recording's end is not a session's
            weak.append("finishing")
        return weak


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number(value: Any, default: float = 0.0) -> float:
    return float(value) if _is_number(value) else default


def _started(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _text(value: Any, default: str = "") -> str:
    return str(value) if value not in (None, "") else default


def _words(value: Any) -> list[str]:
    return [str(w) for w in value] if isinstance(value, (list, tuple)) else []


def _pairs(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def analyse(events: Iterable[RecordEvent | Event], fallback_id: str = "") -> Session:
    """Fold a session's events, in order, into a `Session` (typed events, or record lines)."""
    header: SessionEvent | None = None
    turns: list[Turn] = []
    exchanges: list[Exchange] = []
    steps: list[StepVisit] = []
    interruptions: list[InterruptionEvent] = []
    errors: list[str] = []
    controls: list[ControlEvent] = []
    attempts: list[Attempt] = []
    open_exchange: dict[str, Exchange] = {}
    current = {"round": 0, "sender": UNKNOWN, "receiver": UNKNOWN, "step": ""}
    skipped_current = False
    end_reason: str | None = None
    last_t = 0.0
    last_turn: Turn | None = None
    names: dict[str, str] = {}

    for raw in events:
        event = schema.parse(raw)
        if event is None:
            continue
        t = _number(event.t, last_t)
        last_t = max(last_t, t)
        if isinstance(event, SessionEvent):
            header = event
            names = ({str(k): str(v) for k, v in event.names.items()}
                     if isinstance(event.names, dict) else {})
        elif isinstance(event, StepEvent):
            if steps:
                steps[-1].status = "skipped" if skipped_current else "done"
            skipped_current = False
            current["round"] = int(_number(event.round, current["round"]))
            current["sender"] = _text(event.sender, current["sender"])
            current["receiver"] = _text(event.receiver, current["receiver"])
            current["step"] = _text(event.name)
            steps.append(StepVisit(current["step"], current["round"], current["sender"],
                                   current["receiver"], t))
        elif isinstance(event, TurnEvent):
            key = _text(event.speaker, UNKNOWN)
            start = _number(event.start, t)
            end = _number(event.end, start)
            confidence = event.confidence
            last_turn = Turn(
                t=t, speaker=key, name=names.get(key, "Unknown speaker" if key == UNKNOWN else key),
                role=_text(event.role), step=_text(event.step, current["step"]),
                round=current["round"], text=_text(event.text), start=start, end=end,
                confidence=_number(confidence) if _is_number(confidence) else None,
            )
            turns.append(last_turn)
        elif isinstance(event, VerdictEvent):
            vkind = _text(event.kind)
            number = int(_number(event.attempt, 1))
            round_ = int(_number(event.round, current["round"]))
            attempt = Attempt(
                t=t, kind=vkind, label=_text(event.label),
                score=_number(event.score) if _is_number(event.score) else None,
                missing=_words(event.missing), intrusions=_words(event.intrusions),
                number=number, step=_text(event.step, current["step"]), round=round_,
                reply=last_turn.text if last_turn else "", reason=_text(getattr(event, "reason", "")),
                detail=_pairs(getattr(event, "detail", None)),
            )
            attempts.append(attempt)
            exchange = open_exchange.get(vkind)
            if exchange is None or exchange.round != round_ or number <= exchange.attempts[-1].number:
                exchange = Exchange(vkind, round_, current["sender"], current["receiver"])
                exchanges.append(exchange)
                open_exchange[vkind] = exchange
            exchange.attempts.append(attempt)
        elif isinstance(event, OverrideEvent):
            okind = _text(event.kind)
            for attempt in reversed(attempts):
                if attempt.kind == okind:
                    if attempt.original_label is None:
                        attempt.original_label = attempt.label
                    attempt.label = (str(event.label) if event.label
                                     else flipped_label(okind, attempt.label))
                    break
        elif isinstance(event, InterruptionEvent):
            interruptions.append(event)
        elif isinstance(event, ControlEvent):
            controls.append(event)
            if event.action == "skip":
                skipped_current = True
        elif isinstance(event, ErrorEvent):
            errors.append(_text(event.message))
        elif isinstance(event, EndEvent):
            end_reason = _text(event.reason)

    if steps:
        if skipped_current:
            steps[-1].status = "skipped"
        elif end_reason == "complete":
            steps[-1].status = "done"
    return Session(
        id=_text(header.id if header else None, fallback_id),
        started=_started(header.started if header else None),
        names=names or {"A": "Partner A", "B": "Partner B"},
        script=_text(header.script if header else None),
        input=_text(header.input if header else None),
        duration=last_t,
        end_reason=end_reason,
        turns=turns,
        exchanges=exchanges,
        steps=steps,
        interruptions=interruptions,
        errors=errors,
        controls=controls,
        mode=header.mode if header is not None and isinstance(header.mode, str) else None,
    )
