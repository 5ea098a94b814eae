"""The live full-screen view: one layout, redrawn from `DisplayState` after each event.

    ┌ now ───────────────────────────────────────────────┐
    │ MIRRORING · round 1          Sender: Sam · Receiver │
    │ ▶ ALEX  (Receiver), your turn                       │
    │ Facilitator: "Alex, please mirror what Sam said..." │
    │ … what I hear you saying is                         │  interim words, in place
    └─────────────────────────────────────────────────────┘
    ┌ last turns ───────────────────┐┌ verdicts ──────────┐
    │ SAM (Sender) I feel ...       ││ ✓ mirror: mirror   │
    └───────────────────────────────┘└────────────────────┘
     3:12 · listening · say: repeat that · pause · stop

Panels too short for their text show its end (the newest lines), never the beginning.
"""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, RenderResult
from rich.layout import Layout
from rich.panel import Panel
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from facilitator.display.state import COLORS, DisplayState, clock

HINTS = {"paused": "say: resume · stop"}
DEFAULT_HINT = "say: repeat that · pause · stop"
STATUS = {"starting": "starting", "speaking": "facilitator speaking", "listening": "● listening",
          "paused": "❚❚ paused", "ended": "session ended"}


def _lines(console: Console, options: ConsoleOptions, renderable) -> list[list[Segment]]:
    return console.render_lines(renderable, options.update(height=None), pad=False)


def _emit(lines: list[list[Segment]]) -> RenderResult:
    for line in lines:
        yield from line
        yield Segment.line()


class Tail:
    """Texts one after another; when they do not fit the height, the last lines are shown."""

    def __init__(self, texts: list[Text], empty: str = ""):
        self.texts = texts or [Text(empty, style="dim")]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        lines = [line for text in self.texts for line in _lines(console, options, text)]
        if options.height is not None:
            lines = lines[-options.height:] if options.height > 0 else []
        yield from _emit(lines)


class NowView:
    """The big panel's content: the step, whose turn it is, the prompt, the interim words."""

    def __init__(self, state: DisplayState):
        self.state = state

    def header(self, width: int) -> Table:
        state = self.state
        grid = Table.grid(expand=True)
        grid.add_column(justify="left", ratio=1)
        grid.add_column(justify="right")
        title = state.step_title().upper() + (f"   ·   round {state.round}" if state.step else "")
        roles = ""
        if state.sender and state.receiver and width >= 80:   # narrow: the who line says it
            roles = f"Sender: {state.name(state.sender)}  ·  Receiver: {state.name(state.receiver)}"
        grid.add_row(Text(title, style="bold yellow"), Text(roles, style="yellow"))
        return grid

    def who(self) -> Text:
        state = self.state
        if state.status == "ended":
            return Text(f"SESSION ENDED ({state.end_reason})", style="bold yellow")
        if state.status == "paused":
            return Text("❚❚ PAUSED  ·  say “resume” to go on", style="bold blue")
        speaker, role = state.now_speaker()
        if speaker is None:
            return Text("")
        text = Text(f" ▶ {state.name(speaker).upper()} ", style=f"{COLORS.get(speaker)} reverse")
        text.append(f"  {role + ', ' if role else ''}your turn", style=COLORS.get(speaker))
        return text

    def prompt(self) -> Text:
        if not self.state.prompt:
            return Text("")
        return Text.assemble(("Facilitator: ", "bold green"),
                             (f"“{self.state.prompt}”", "bold bright_white"))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        head = (_lines(console, options, self.header(options.max_width))
                + _lines(console, options, self.who()))
        prompt = _lines(console, options, self.prompt())
        interim = []
        if self.state.partial:
            interim = _lines(console, options, Text(f"… {self.state.partial}", style="italic"))
        height = options.height if options.height is not None else 10 ** 6
        blank: list[list[Segment]] = [[]]
        gap = blank if len(head) + len(prompt) + len(interim) + 2 <= height else []
        if interim:                # at least the newest line of interim words stays in view
            room = max(1, height - len(head) - len(prompt) - 2 * len(gap))
            interim = interim[-room:]
            prompt = prompt[:max(0, height - len(head) - len(interim) - 2 * len(gap))]
        lines = head + (gap + prompt if prompt else []) + (gap + interim if interim else [])
        yield from _emit(lines[:height])


def turns_panel(state: DisplayState) -> Panel:
    texts = []
    for label, text in state.turns:
        texts.append(Text.assemble((label.text(), COLORS.get(label.speaker, "bold")), "  ",
                                   (text, "bold")))
    return Panel(Tail(texts, "no turns yet"), title="last turns", title_align="left")


def notes_panel(state: DisplayState) -> Panel:
    texts = [Text(note.text, style=note.style) for note in state.notes]
    return Panel(Tail(texts, "no verdicts yet"), title="verdicts", title_align="left")


def footer(state: DisplayState) -> Text:
    hint = HINTS.get(state.status, DEFAULT_HINT)
    return Text(f" {clock(state.t)}   ·   {STATUS.get(state.status, state.status)}   ·   {hint}",
                style="dim", no_wrap=True, overflow="ellipsis")


def build_layout(state: DisplayState) -> Layout:
    """The whole screen for the state as it is now (cheap: a few small renderables)."""
    root = Layout(name="root")
    below = Layout(name="below", ratio=1)
    root.split_column(
        Layout(Panel(NowView(state), title="now", title_align="left", border_style="yellow",
                     padding=(0, 2)), name="now", ratio=1, minimum_size=7),
        below,
        Layout(footer(state), name="footer", size=1),
    )
    below.split_row(Layout(turns_panel(state), name="turns", ratio=3),
                    Layout(notes_panel(state), name="notes", ratio=2))
    return root
