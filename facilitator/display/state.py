"""What the terminal display knows about the session so far, read from the bus's events.

Both views (the live full-screen one and the plain log) keep one `DisplayState` and ask it
how to label things: whose turn it is, and a turn's speaker by the role that partner really
has in the current step (not the role the turn was expected to have).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from facilitator.events import Event

STEP_TITLES = {
    "appointment": "Appointment", "availability": "Appointment", "send": "Sender's message",
    "mirror": "Mirroring", "confirm": "Did I get that?", "clarify": "Sender clarifies",
    "clarify_heard": "Sender clarifies", "more": "Is there more?", "send_more": "Sender's message",
    "more_heard": "Sender's message", "summary": "Summary", "summary_confirm": "Summary",
    "validate": "Validation", "empathize": "Empathy", "empathy_confirm": "Empathy",
    "round_end": "Switching roles", "switch": "Switching roles",
    "appreciate_sender": "Appreciations", "appreciate_receiver": "Appreciations",
    "close": "Closing",
}
COLORS = {"A": "bold cyan", "B": "bold magenta", None: "bold white"}
ROLE_TITLES = {"sender": "Sender", "receiver": "Receiver"}
ENROLLING_TITLE = "Learning your voices"
INTERRUPTIONS = {"wrong_speaker": "answered out of turn", "talk_over": "talked over the speaker",
                 "overlap": "spoke at the same time"}
TURNS_KEPT = 6
NOTES_KEPT = 6


@dataclass
class Label:
    """Who spoke a turn, as shown: a name, the role they have in this step, out of turn or not."""

    speaker: str | None
    name: str
    role: str | None = None        # "Sender" / "Receiver", or None when not known
    out_of_turn: bool = False

    def text(self) -> str:
        details = [d for d in (self.role, "out of turn" if self.out_of_turn else None) if d]
        return f"{self.name.upper()} ({', '.join(details)})" if details else self.name.upper()


@dataclass
class Note:
    """One line of the verdicts panel: a verdict, an interruption, an error, a command."""

    text: str
    style: str


def script_roles(script: str | None) -> dict[str, str]:
    """Step name -> who speaks in it ("sender" / "receiver" / "none"), from the script file."""
    if not script:
        return {}
    try:
        from facilitator.dialogue import Script

        return {name: step.role for name, step in Script.load(script).steps.items()}
    except Exception:            # an unreadable script only costs the "who speaks now" hint
        return {}


class DisplayState:
    def __init__(self, names: dict[str, str], titles: dict[str, str] | None = None,
                 roles: dict[str, str] | None = None):
        self.names = dict(names)
        self.titles = {**STEP_TITLES, **(titles or {})}
        self._roles_known = roles is not None
        self.roles = dict(roles or {})    # step name -> "sender" / "receiver" / "none"
        self.step: str | None = None
        self.round = 1
        self.sender: str | None = None
        self.receiver: str | None = None
        self.expected: str | None = None  # "A" / "B": who should speak now, when known
        self.prompt = ""
        self.partial = ""
        self.turns: deque[tuple[Label, str]] = deque(maxlen=TURNS_KEPT)
        self.notes: deque[Note] = deque(maxlen=NOTES_KEPT)
        self.status = "starting"          # starting, speaking, listening, paused, ended
        self.t = 0.0
        self.turn_count = 0
        self.verdicts = [0, 0]            # passed, judged
        self.end_reason: str | None = None

    def snapshot(self) -> "DisplayState":
        """A copy to draw from while the events go on changing this one."""
        copy = object.__new__(DisplayState)
        copy.__dict__.update(self.__dict__)
        copy.turns, copy.notes = deque(self.turns), deque(self.notes)
        return copy

    # -- labels ---------------------------------------------------------------------
    def name(self, speaker: str | None, unknown: str = "Someone") -> str:
        return self.names.get(speaker, speaker or unknown) if speaker else unknown

    def step_title(self, step: str | None = None) -> str:
        step = step if step is not None else self.step
        if step is None:
            return ENROLLING_TITLE
        return self.titles.get(step, step.replace("_", " ").title())

    def role_of(self, speaker: str | None) -> str | None:
        if speaker is None:
            return None
        if speaker == self.sender:
            return ROLE_TITLES["sender"]
        if speaker == self.receiver:
            return ROLE_TITLES["receiver"]
        return None

    def speaker_for(self, role: str | None) -> str | None:
        return {"sender": self.sender, "receiver": self.receiver}.get(role or "")

    def turn_label(self, event: Event) -> Label:
        speaker = event.get("speaker")
        if speaker is None:
            return Label(None, "Someone")
        expected = self.speaker_for(event.get("role"))
        out_of_turn = expected is not None and speaker != expected
        return Label(speaker, self.name(speaker), self.role_of(speaker), out_of_turn)

    def now_speaker(self) -> tuple[str | None, str | None]:
        """("A"/"B" or None, "Sender"/"Receiver" or None): whose turn it is now."""
        return self.expected, self.role_of(self.expected)

    # -- events ---------------------------------------------------------------------
    def apply(self, event: Event) -> None:
        kind = event.get("type")
        if isinstance(event.get("t"), (int, float)) and kind not in ("_timing",):
            self.t = max(self.t, float(event["t"]))
        handler = getattr(self, f"_on_{kind.lstrip('_')}" if kind else "", None)
        if handler is not None:
            handler(event)

    def _on_session(self, event: Event) -> None:
        self.names.update(event.get("names") or {})
        if not self._roles_known:
            self.roles, self._roles_known = script_roles(event.get("script")), True

    def _on_step(self, event: Event) -> None:
        self.step = event.get("name")
        self.round = int(event.get("round") or 1)
        self.sender, self.receiver = event.get("sender"), event.get("receiver")
        if not self._roles_known:       # resumed: no session event named the script
            self.roles, self._roles_known = script_roles("intentional_dialogue"), True
        self.expected = self.speaker_for(self.roles.get(self.step or ""))
        self.partial = ""

    def _on_prompt(self, event: Event) -> None:
        self.prompt = event.get("text", "")
        self.status = "speaking" if self.status != "paused" else "paused"

    def _on_listening(self, event: Event) -> None:
        if self.status not in ("paused", "ended"):
            self.status = "listening"

    _on_ready = _on_listening

    def _on_partial(self, event: Event) -> None:
        self.partial = event.get("text", "")
        if self.status in ("starting", "speaking"):
            self.status = "listening"
        if event.get("speaker"):
            self.expected = event["speaker"]

    def _on_turn(self, event: Event) -> None:
        self.partial = ""
        self.turn_count += 1
        self.turns.append((self.turn_label(event), event.get("text", "")))

    def _on_verdict(self, event: Event) -> None:
        passed = bool(event.get("passed"))
        self.verdicts[0] += passed
        self.verdicts[1] += 1
        self.notes.append(Note(verdict_text(event), "bold green" if passed else "bold red"))

    def _on_interruption(self, event: Event) -> None:
        self.notes.append(Note(self.interruption_text(event), "bold red"))

    def _on_error(self, event: Event) -> None:
        self.notes.append(Note(f"! {event.get('message', 'error')}", "bold red"))

    def _on_control(self, event: Event) -> None:
        action = event.get("action", "")
        if action == "pause":
            self.status = "paused"
        elif action == "resume" and self.status == "paused":
            self.status = "listening"
        self.notes.append(Note(f"[{action}]", "bold blue"))

    def _on_enrollment(self, event: Event) -> None:
        self.notes.append(self.enrollment_note(event))

    def _on_override(self, event: Event) -> None:
        what = f"{event.get('kind', '')} {event.get('label', '')}"
        self.notes.append(Note(f"[coach override: {what}]", "bold blue"))

    def _on_speakers(self, event: Event) -> None:
        self.notes.append(Note(f"● voices learnt ({event.get('method', 'voice')})", "bold green"))

    def _on_end(self, event: Event) -> None:
        self.status = "ended"
        self.end_reason = event.get("reason")
        self.partial = ""

    # -- note texts -------------------------------------------------------------------
    def interruption_text(self, event: Event) -> str:
        what = INTERRUPTIONS.get(event.get("kind", ""), "interrupted")
        return f"! {self.name(event.get('speaker'), '?')} {what}"

    def enrollment_note(self, event: Event) -> Note:
        who = self.name(event.get("speaker"), "?")
        if event.get("ok"):
            return Note(f"✓ {who}'s voice learnt", "bold green")
        return Note(f"✗ {who}'s voice: {event.get('problem') or 'not learnt'}", "bold yellow")


def verdict_text(event: Event) -> str:
    mark = "✓" if event.get("passed") else "✗"
    line = f"{mark} {event.get('kind', '?')}: {event.get('label', '?')}"
    missing = event.get("missing") or []
    if missing:
        line += f"  (missing: {', '.join(str(m) for m in missing[:4])})"
    if event.get("reason"):
        line += f"  [{str(event['reason']).replace('_', ' ')}]"
    return line


def clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60:d}:{seconds % 60:02d}"
