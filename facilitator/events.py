"""Events between the rooms: a tiny publish/subscribe bus with two channels, and the
coach's control commands.

The record channel carries what the session record stores: the typed events of
`facilitator.schema` (`SessionEvent`, `TurnEvent`, ...). The record writer, the coach view,
the terminal display and the review all read those types. The signal channel carries the
internal signals of `facilitator.signals` (`Partial`, `Listening`, `Spoken`, `Ready`,
`Timing`, `Dropped`): for the display, the simulated room and the benchmarks, never for the
record or the coach view.

    bus.subscribe(listener)           # record events
    bus.subscribe_signals(listener)   # signals
    bus.publish(TurnEvent(...))       # to the record listeners
    bus.signal(Partial(...))          # to the signal listeners (publish(Partial(...)) too)

Listeners are called on the publisher's thread, in the order they subscribed; an exception
in one (the record writer's `RecordWriteError`) goes back to the publisher.

Transition, until every publisher sends the typed events: `publish` also takes the old
plain dicts and hands them on unchanged (not parsed). A dict record event ("turn", ...)
goes to the record listeners. A dict signal (a type starting with "_") goes to the signal
listeners and, as before, to every record listener that is not also a signal listener
(so each listener gets it once): the simulated room, the benchmark's collector and the
terminal display, subscribed with `subscribe` today, keep getting them; the record writer
and the coach view drop them. A typed signal never reaches a record listener.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Union

from facilitator.schema import RecordEvent
from facilitator.signals import Signal

Event = dict[str, Any]                 # an event in its dict form (a record line)
AnyEvent = Union[RecordEvent, Signal, Event]
Listener = Callable[[Any], None]


def as_dict(event: AnyEvent) -> Event:
    """The dict form of a typed event or signal (a dict is given back as it is)."""
    if isinstance(event, (RecordEvent, Signal)):
        return event.to_dict()
    return event


def _old_signal(event: Any) -> bool:
    return isinstance(event, Mapping) and str(event.get("type", "")).startswith("_")


class EventBus:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._signal_listeners: list[Listener] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Listener) -> None:
        """`listener(event)` for every record event."""
        with self._lock:
            self._listeners.append(listener)

    def subscribe_signals(self, listener: Listener) -> None:
        """`listener(signal)` for every internal signal."""
        with self._lock:
            self._signal_listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        """Stop calling `listener`, on both channels."""
        with self._lock:
            for listeners in (self._listeners, self._signal_listeners):
                if listener in listeners:
                    listeners.remove(listener)

    def publish(self, event: AnyEvent) -> None:
        """A record event to the record listeners (a signal goes to `signal`)."""
        if isinstance(event, Signal) or _old_signal(event):
            self.signal(event)
            return
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(event)

    def signal(self, signal: Signal | Event) -> None:
        """A signal to the signal listeners (an old dict one to the record listeners too)."""
        with self._lock:
            listeners = list(self._signal_listeners)
            if not isinstance(signal, Signal):        # transition: see the module's notes
                listeners += [l for l in self._listeners if l not in self._signal_listeners]
        for listener in listeners:
            listener(signal)


CONTROL_ACTIONS = ("pause", "resume", "repeat", "skip", "stop", "override")


@dataclass
class Control:
    """A command from outside the microphone: a coach's click, or a voice command."""

    action: str                      # one of CONTROL_ACTIONS
    source: str = "voice"            # "voice" | "coach"
    detail: dict[str, Any] | None = None   # for "override": {"label": "mirror"} etc.

    def __post_init__(self) -> None:
        if self.action not in CONTROL_ACTIONS:
            raise ValueError(f"unknown control action: {self.action!r}")


class ControlQueue:
    """Thread-safe inbox of Control commands that the live loop drains between frames."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Control] = queue.SimpleQueue()

    def put(self, control: Control) -> None:
        self._queue.put(control)

    def drain(self) -> list[Control]:
        items = []
        while True:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                return items
