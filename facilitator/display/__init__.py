"""Terminal display: what is happening, readable from across the room.

`TerminalDisplay` listens to both of the bus's channels: the record events (the steps,
prompts, turns, verdicts...) and the signals (the interim words of the open turn, "ready",
"listening"): `bus.subscribe(display)` and `bus.subscribe_signals(display)`. It takes
typed events and signals (`facilitator.schema`, `facilitator.signals`), turned into their
dict form as they come in, and the old plain dicts. On a terminal it is a live full-screen view
(rich's Live with a layout, see `screen.py`): whose turn it is, the step, the facilitator's
last words, the interim words of the open turn in place, the last turns and verdicts. When
the output is not a terminal it prints a plain log instead (`plain.py`).

The bus calls listeners on the session's own thread, just before the facilitator speaks, so
an event only updates `DisplayState` (microseconds); a small painter thread redraws the
screen after it, once for a burst of events (a turn, its verdict, the next step, the prompt).
"""

from __future__ import annotations

import atexit
import sys
import threading

from rich.console import Console
from rich.live import Live

from facilitator.display.plain import PlainLog, end_summary
from facilitator.display.screen import build_layout
from facilitator.display.state import COLORS, STEP_TITLES, DisplayState
from facilitator.events import AnyEvent, as_dict

__all__ = ["TerminalDisplay", "STEP_TITLES", "COLORS"]

IGNORED = ("_spoken", "_timing")
REDRAW_GAP_S = 0.05       # at most 20 redraws a second; a burst of events is drawn once


class TerminalDisplay:
    """A bus listener. `live=None` chooses the live view when the console is a terminal.

    The live view starts with the first event and stops at the `end` event (or `close()`),
    which gives the terminal back as it was and prints a one-line summary.
    `titles` (step name -> title) adds to or replaces STEP_TITLES; `roles` (step name ->
    "sender"/"receiver"/"none") says who speaks in each step, else it is read from the script.
    """

    def __init__(self, names: dict[str, str], console: Console | None = None,
                 live: bool | None = None, titles: dict[str, str] | None = None,
                 roles: dict[str, str] | None = None):
        self.console = console or Console(file=sys.stdout, highlight=False)
        self.state = DisplayState(names, titles, roles)
        self.live_mode = self.console.is_terminal if live is None else live
        self.plain = None if self.live_mode else PlainLog(self.state, self.console)
        self.live: Live | None = None
        self._lock = threading.Lock()            # guards `state`
        self._life = threading.Lock()            # guards starting and stopping the Live
        self._dirty = threading.Event()
        self._stopping = threading.Event()
        self._painter: threading.Thread | None = None
        self._ended = False

    def __call__(self, event: AnyEvent) -> None:
        event = as_dict(event)
        if event.get("type") in IGNORED:
            return
        with self._lock:
            self.state.apply(event)
            if self.plain is not None:
                self.plain.show(event)
                return
        if self.state.status == "ended":
            self.close()
        else:
            self._start()
            self._dirty.set()

    def render(self):
        """The live view's layout for the state as it is now."""
        with self._lock:
            state = self.state.snapshot()
        return build_layout(state)

    def _start(self) -> None:
        with self._life:
            if self.live is None and not self._ended:
                self._start_live()

    def _start_live(self) -> None:
        real_terminal = self.console.file in (sys.stdout, sys.__stdout__)
        self.live = Live(self.render(), console=self.console, screen=True, auto_refresh=False,
                         redirect_stdout=real_terminal, redirect_stderr=real_terminal)
        self.live.start(refresh=True)
        atexit.register(self.close)      # the terminal is restored even if `end` never comes
        self._painter = threading.Thread(target=self._paint, name="terminal-display",
                                         daemon=True)
        self._painter.start()

    def _paint(self) -> None:
        while not self._stopping.is_set():
            self._dirty.wait()
            if self._stopping.is_set():
                return
            self._dirty.clear()
            live = self.live
            if live is not None:
                live.update(self.render(), refresh=True)
            self._stopping.wait(REDRAW_GAP_S)

    def close(self) -> None:
        """Stop the live view and give the terminal back; safe to call more than once."""
        with self._life:
            self._ended = True
            live, self.live = self.live, None
        if live is None:
            return
        self._stopping.set()
        self._dirty.set()
        painter = self._painter
        if painter is not None and painter is not threading.current_thread():
            painter.join(timeout=2.0)
        atexit.unregister(self.close)
        live.stop()
        self.console.print(end_summary(self.state), style="bold yellow", highlight=False)
