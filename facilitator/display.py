"""Terminal display: the current step, who is speaking, and the live transcript, in large clear lines."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from facilitator.events import Event

STEP_TITLES = {
    "appointment": "Appointment", "availability": "Appointment", "send": "Sender's message",
    "mirror": "Mirroring", "confirm": "Did I get that?", "clarify": "Sender clarifies",
    "more": "Is there more?", "send_more": "Sender's message", "summary": "Summary",
    "summary_confirm": "Summary", "validate": "Validation", "empathize": "Empathy",
    "empathy_confirm": "Empathy", "switch": "Switching roles", "appreciate_sender": "Appreciations",
    "appreciate_receiver": "Appreciations", "close": "Closing",
}
COLORS = {"A": "bold cyan", "B": "bold magenta", None: "bold white"}


class TerminalDisplay:
    """Subscribes to the event bus and prints what happens, readable from across the room."""

    def __init__(self, names: dict[str, str], console: Console | None = None):
        self.names = names
        self.console = console or Console(file=sys.stdout, highlight=False)

    def __call__(self, event: Event) -> None:
        kind = event.get("type")
        c = self.console
        if kind == "step":
            title = STEP_TITLES.get(event["name"], event["name"].replace("_", " ").title())
            sender = self.names.get(event.get("sender"), "")
            c.print(Panel(Text(f"{title.upper()}   ·   round {event.get('round', 1)}   ·   Sender: {sender}",
                               style="bold yellow"), expand=True))
        elif kind == "prompt":
            c.print(Text("  FACILITATOR ▸ ", style="bold green") + Text(event["text"], style="green"))
        elif kind == "turn":
            who = self.names.get(event.get("speaker"), "Someone")
            role = event.get("role", "")
            c.print(Text(f"  {who.upper()} ({role}) ▸ ", style=COLORS.get(event.get("speaker"), "bold"))
                    + Text(event.get("text", ""), style="bold"))
        elif kind == "_partial":
            who = self.names.get(event.get("speaker"), "")
            c.print(Text(f"    … {who}: {event.get('text', '')}", style="dim"))
        elif kind == "verdict":
            ok = event.get("passed")
            style = "bold green" if ok else "bold red"
            line = f"  ✓ {event['kind']}: {event['label']}" if ok else f"  ✗ {event['kind']}: {event['label']}"
            if event.get("missing"):
                line += f"  (missing: {', '.join(event['missing'][:4])})"
            c.print(Text(line, style=style))
        elif kind == "control":
            c.print(Text(f"  [{event['action']}]", style="bold blue"))
        elif kind == "interruption":
            c.print(Text(f"  ! interruption by {self.names.get(event.get('speaker'), '?')}", style="bold red"))
        elif kind == "error":
            c.print(Text(f"  ! {event['message']}", style="bold red"))
        elif kind == "_ready":
            c.print(Text("  ● Ready, listening.", style="bold green"))
        elif kind == "end":
            c.print(Panel(Text(f"SESSION ENDED ({event.get('reason')})", style="bold yellow")))
