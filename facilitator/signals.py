"""Internal signals: what the live loop tells the rooms in the process, never recorded.

The interim words of the open turn (`Partial`), "listening again" (`Listening`) and "ready"
(`Ready`) for the terminal display and the simulated room, the prompt just played with its
audio (`Spoken`) for the room's echo and the benchmarks, per-turn timings (`Timing`) and
dropped noise (`Dropped`) for the benchmarks. They travel on the bus's signal channel
(`EventBus.signal`, `EventBus.subscribe_signals`), which neither the session record nor
the coach view listens to. Times are as measured: not rounded, not shifted for a resume.

`to_dict()` gives the old form, `{"type": "_partial", ...}` (types start with "_"), for
listeners not yet moved to the classes. This module imports nothing from the package.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping


@dataclass(frozen=True, kw_only=True)
class Signal:
    type: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, **{spec.name: getattr(self, spec.name)
                                      for spec in dataclasses.fields(self)}}


@dataclass(frozen=True, kw_only=True)
class Partial(Signal):
    """The words recognised so far in the open turn."""

    type: ClassVar[str] = "_partial"
    t: float
    text: str
    speaker: str | None                  # who is expected to be speaking


@dataclass(frozen=True, kw_only=True)
class Listening(Signal):
    """The facilitator has finished speaking: the microphone counts again from `after`."""

    type: ClassVar[str] = "_listening"
    t: float
    after: float
    step: str


@dataclass(frozen=True, kw_only=True)
class Spoken(Signal):
    """A prompt was played: from `t` on the input timeline, `started` on the wall clock."""

    type: ClassVar[str] = "_spoken"
    t: float
    text: str
    started: float
    duration: float
    audio: Any = field(default=None, repr=False, compare=False)   # float samples, or None
    rate: int = 0


@dataclass(frozen=True, kw_only=True)
class Ready(Signal):
    """The opening prompts are played; the loop starts listening."""

    type: ClassVar[str] = "_ready"
    t: float


@dataclass(frozen=True, kw_only=True)
class Timing(Signal):
    """One turn's timings for the benchmarks: {"turn", "reason", "last_voice", ...}."""

    type: ClassVar[str] = "_timing"
    fields: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, **self.fields}


@dataclass(frozen=True, kw_only=True)
class Dropped(Signal):
    """A stretch of sound too short or without words: not a turn."""

    type: ClassVar[str] = "_dropped"
    t: float
    reason: str
    start: float
    end: float


SIGNAL_TYPES: dict[str, type[Signal]] = {cls.type: cls for cls in (
    Partial, Listening, Spoken, Ready, Timing, Dropped)}


def is_signal(event: Any) -> bool:
    """A typed signal, or an old-form dict one (its type starts with "_")."""
    if isinstance(event, Signal):
        return True
    return isinstance(event, Mapping) and str(event.get("type", "")).startswith("_")


def parse_signal(data: Any) -> Signal | None:
    """The typed signal of an old-form dict, or None for anything else."""
    if isinstance(data, Signal):
        return data
    if not isinstance(data, Mapping):
        return None
    cls = SIGNAL_TYPES.get(data.get("type"))      # type: ignore[arg-type]
    if cls is None:
        return None
    if cls is Timing:
        return Timing(fields={k: v for k, v in data.items() if k != "type"})
    values = {}
    for spec in dataclasses.fields(cls):          # lenient: a missing field is None
        if spec.name in data:
            values[spec.name] = data[spec.name]
        elif spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
            values[spec.name] = None
    return cls(**values)
