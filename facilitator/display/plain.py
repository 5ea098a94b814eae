"""The plain log, for output that is not a terminal (a pipe, a file, a CI log).

One line per thing that happened: a step banner only when the step (name, round) changes,
each finished turn once (the growing interim words are never printed), each prompt,
verdict, interruption, command and error.
"""

from __future__ import annotations

from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from facilitator.display.state import COLORS, DisplayState, clock, verdict_text
from facilitator.events import Event


class PlainLog:
    def __init__(self, state: DisplayState, console: Console):
        self.state = state
        self.console = console
        self._banner: tuple | None = None

    def show(self, event: Event) -> None:
        """Print the event; `state` has already taken it in."""
        kind = event.get("type")
        state, c = self.state, self.console
        if kind == "step":
            banner = (state.step, state.round)
            if banner == self._banner:
                return
            self._banner = banner
            sender = state.name(state.sender, "")
            c.print(Panel(Text(f"{state.step_title().upper()}   ·   round {state.round}"
                               f"   ·   Sender: {sender}", style="bold yellow"), expand=True))
        elif kind == "prompt":
            c.print(Text("  FACILITATOR ▸ ", style="bold green") + Text(event.get("text", ""),
                                                                       style="green"))
        elif kind == "turn":
            label, text = state.turns[-1]
            c.print(Text(f"  {label.text()} ▸ ", style=COLORS.get(label.speaker, "bold"))
                    + Text(text, style="bold"))
        elif kind == "verdict":
            style = "bold green" if event.get("passed") else "bold red"
            c.print(Text("  " + verdict_text(event), style=style))
        elif kind == "control":
            c.print(Text(f"  [{event.get('action', '')}]", style="bold blue"))
        elif kind == "interruption":
            c.print(Text("  " + state.interruption_text(event), style="bold red"))
        elif kind == "error":
            c.print(Text(f"  ! {event.get('message', 'error')}", style="bold red"))
        elif kind == "enrollment":
            note = state.enrollment_note(event)
            c.print(Text("  " + note.text, style=note.style))
        elif kind == "override":
            c.print(Text("  " + state.notes[-1].text, style="bold blue"))
        elif kind == "speakers":
            method = event.get("method", "voice")
            c.print(Text(f"  ● Voices learnt ({method}).", style="bold green"))
        elif kind == "_ready":
            c.print(Text("  ● Ready, listening.", style="bold green"))
        elif kind == "end":
            c.print(Panel(Text(end_summary(state), style="bold yellow")))


def end_summary(state: DisplayState) -> str:
    passed, judged = state.verdicts
    line = f"SESSION ENDED ({state.end_reason})   ·   {state.turn_count} turns"
    if judged:
        line += f"   ·   {passed} of {judged} judgements passed"
    return line + f"   ·   {clock(state.t)}"
