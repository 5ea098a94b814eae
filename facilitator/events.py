"""Events between the rooms: a tiny publish/subscribe bus and the coach's control commands.

Every event is a plain dict with a "type" (the same dicts the session record stores), so
any listener (record writer, terminal display, coach view, simulated room) can subscribe
without knowing the others.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from typing import Any, Callable

Event = dict[str, Any]
Listener = Callable[[Event], None]


class EventBus:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def publish(self, event: Event) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(event)


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
