"""Reading a recorded dialogue turn by turn: what each turn does, and what it answers.

`DialogueReader.read(speaker, text)` is told the turns in time order and says of each its
act (`acts.ACTS`), the step of the Intentional Dialogue it belongs to, the round, who is
Sender and Receiver, and the judgements it needs, each with the Sender's words it is
judged against:

* a mirror: the Sender's message turns since the last mirror (a mirror tried again with
  nothing new from the Sender is the next attempt against the same words);
* a summary, a validation, an empathy: every message of the round (the additions after
  "is there more?" included);
* a Sender's message (and a request): the message itself, for blame.

The words say most (`acts.read_cues`); the turn's place decides what they leave open: a
Receiver's reply to a message is a mirror even without a stem (a bad mirror is judged as
one), after "no, that's all" it is the summary, after the summary the validation, after the
validation the empathy. Roles switch when the Receiver asks for a dialogue or speaks a
message of their own once the exchange has reached its summary. It reads one turn at a
time and never looks ahead, so the record can be written as the recording is worked through.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from facilitator.recorded.acts import Cues, read_cues, split_validation_empathy, strip_leading_yes

LATE = ("summarised", "validated", "empathised")   # the exchange has reached its summary


@dataclass(frozen=True)
class Judgement:
    """One verdict to ask of the judges for a turn."""

    kind: str              # mirror, summary, validation, empathy, sender_statement
    context: list[str]     # the Sender's words it answers ([] for a sender_statement)
    reply: str             # the words judged
    attempt: int           # 1, 2, ... tries at the same step with nothing new in between


@dataclass(frozen=True)
class ReadTurn:
    act: str
    role: str              # "sender" or "receiver"
    step: str
    round: int
    sender: str
    receiver: str
    messages: list[str]    # the Sender's messages of the round before this turn
    judgements: list[Judgement] = field(default_factory=list)


def other(speaker: str) -> str:
    return "B" if speaker == "A" else "A"


class DialogueReader:
    """The observer's state: who sends, what they said this round, where the exchange is."""

    def __init__(self) -> None:
        self.sender: str | None = None
        self.round = 1
        self.messages: list[str] = []          # the Sender's messages this round
        self.since_mirror: list[str] = []      # ... since the last mirror
        self.mirrored: list[str] = []          # what the last mirror answered
        self.phase = "start"
        self.step = "appointment"
        self.attempts: dict[str, int] = {}     # tries of each judged kind with nothing new between
        self.started = False                   # a round has begun (a message or an appointment)

    # -- the Sender and the rounds ---------------------------------------------------------
    def _switch(self, new_sender: str) -> None:
        if self.started:
            self.round += 1
        self.sender = new_sender
        self.messages, self.since_mirror, self.mirrored = [], [], []
        self.attempts = {}
        self.phase = "start"
        self.started = False

    def _first_sender(self, speaker: str, cues: Cues) -> None:
        receiver_like = cues.frame or cues.plain_answer or bool(
            cues.found & {"summary", "validation", "empathy", "more"})
        self.sender = other(speaker) if receiver_like and not cues.has("appointment") else speaker

    # -- one turn --------------------------------------------------------------------------
    def read(self, speaker: str, text: str) -> ReadTurn:
        cues = read_cues(text)
        if self.sender is None:
            if not cues.content and not cues.plain_answer and not cues.found:
                return self._turn(speaker, "other", self.step, [])
            self._first_sender(speaker, cues)
        if speaker != self.sender and self._starts_new_round(cues):
            self._switch(speaker)
        elif speaker == self.sender and self._sends_again(cues):
            self._switch(speaker)          # the same Sender, a new round
        messages = list(self.messages)
        if speaker == self.sender:
            act, step, judgements = self._sender_turn(text, cues)
        else:
            act, step, judgements = self._receiver_turn(text, cues)
        self.step = step
        return self._turn(speaker, act, step, judgements, messages)

    def _turn(self, speaker: str, act: str, step: str, judgements: list[Judgement],
              messages: list[str] | None = None) -> ReadTurn:
        sender = self.sender or speaker
        return ReadTurn(act, "sender" if speaker == sender else "receiver", step, self.round,
                        sender, other(sender), list(messages if messages is not None else self.messages),
                        judgements)

    def _starts_new_round(self, cues: Cues) -> bool:
        """The Receiver takes the Sender's place: asks for a dialogue, or speaks a message of
        their own once the exchange is past its summary."""
        if self.phase not in LATE and self.phase != "appreciation":
            return False
        if cues.has("appointment") and not cues.plain_answer:
            return True
        if self.phase == "appreciation" or cues.found & {"validation", "empathy", "summary",
                                                          "more", "appreciation", "mirror", "check"}:
            return False
        if cues.plain_answer or not cues.content or cues.has("courtesy"):
            return False
        # Before the empathy, the Receiver's own feelings are a reply that missed (judged as
        # the validation or empathy it stands in for), not a message of their own.
        return self.phase == "empathised"

    def _sends_again(self, cues: Cues) -> bool:
        """The Sender asks for another dialogue, or begins a new message, once the exchange
        has had its empathy (or, for an appointment, its summary)."""
        if cues.plain_answer or cues.has("courtesy"):
            return False
        if cues.has("appointment"):
            return self.phase in LATE or self.phase == "appreciation"
        return self.phase == "empathised" and cues.has("sender_start") and not cues.frame

    def _judged(self, kind: str, context: list[str], reply: str, fresh: bool) -> Judgement:
        attempt = 1 if fresh else self.attempts.get(kind, 0) + 1
        self.attempts[kind] = attempt
        return Judgement(kind, list(context), reply, attempt)

    # -- the Sender ------------------------------------------------------------------------
    def _sender_turn(self, text: str, cues: Cues) -> tuple[str, str, list[Judgement]]:
        phase = self.phase
        if cues.has("appointment") and not self.messages:
            self.started = True
            self.phase = "appointment"
            return "other", "appointment", []
        if cues.plain_answer:
            return "other", self._answer(cues.answer), []
        if not cues.content or cues.has("courtesy"):
            return "other", self.step, []
        act = "message"
        if cues.has("appreciation") and (phase in LATE or phase == "appreciation"):
            self.phase = "appreciation"
            return "appreciation", "appreciate", []
        if cues.has("appreciation") and not self.messages:
            act = "appreciation"           # an appreciation dialogue: the appreciation is the message
        elif cues.has("request"):
            act = "request"
        words = strip_leading_yes(text)
        step = {"more_asked": "send_more", "mirrored": "clarify", "missed": "clarify"}.get(
            phase, "send" if not self.messages else "send_more")
        self.started = True
        self.messages.append(words)
        self.since_mirror.append(words)
        self.attempts = {}
        self.phase = "message"
        return act, step, [self._judged("sender_statement", [], words, fresh=True)]

    def _answer(self, answer: str) -> str:
        """A plain yes or no: which question it answers, and where that leaves the exchange."""
        phase = self.phase
        if phase == "more_asked":
            if answer == "no":
                self.phase = "no_more"
            return "more"
        if phase == "mirrored":
            if answer == "no":
                self.phase = "missed"
            return "confirm"
        return {"summarised": "summary_confirm", "empathised": "empathy_confirm",
                "validated": "validate"}.get(phase, self.step)

    # -- the Receiver ----------------------------------------------------------------------
    def _receiver_turn(self, text: str, cues: Cues) -> tuple[str, str, list[Judgement]]:
        phase = self.phase
        if cues.has("courtesy"):
            return "other", self.step, []
        if cues.plain_answer or (cues.has("appointment") and not self.messages):
            return "other", "availability" if phase in ("start", "appointment") else self.step, []
        if cues.has("validation"):
            return self._validation(text, cues)
        if cues.has("empathy"):
            return self._late("empathy", "empathize", "empathised", text)
        if cues.has("summary") and self.messages:
            return self._late("summary", "summary", "summarised", text)
        if cues.has("more") and cues.more_rest <= cue_limit():
            self.phase = "more_asked"
            return "more", "more", []
        mirroring = phase in ("message", "mirrored", "missed", "more_asked")
        if self.messages and cues.content and (mirroring or (cues.frame and phase != "no_more")):
            return self._mirror(text, cues)
        if cues.has("appreciation"):
            self.phase = "appreciation"
            return "appreciation", "appreciate", []
        if cues.has("request"):
            return "request", "request", []
        if not cues.content or not self.messages:
            return "other", self.step, []
        by_place = {"no_more": ("summary", "summary", "summarised"),
                    "summarised": ("validation", "validate", "validated"),
                    "validated": ("empathy", "empathize", "empathised")}.get(phase)
        if by_place:
            return self._late(*by_place, text)
        return "other", self.step, []

    def _mirror(self, text: str, cues: Cues) -> tuple[str, str, list[Judgement]]:
        fresh = bool(self.since_mirror)
        context = self.since_mirror if fresh else self.mirrored
        self.mirrored, self.since_mirror = list(context), []
        self.phase = "more_asked" if cues.has("more") else "mirrored"
        return "mirror", "mirror", [self._judged("mirror", context, text, fresh)]

    def _late(self, kind: str, step: str, phase: str, text: str) -> tuple[str, str, list[Judgement]]:
        """A summary, a validation or an empathy, judged against the round's messages."""
        fresh = self.phase != phase
        self.phase = phase
        judgements = [self._judged(kind, self.messages, text, fresh)] if self.messages else []
        return kind, step, judgements

    def _validation(self, text: str, cues: Cues) -> tuple[str, str, list[Judgement]]:
        both = split_validation_empathy(text) if cues.has("empathy") else None
        if both is None:
            return self._late("validation", "validate", "validated", text)
        validation, empathy = both
        act, step, judgements = self._late("validation", "validate", "validated", validation)
        _, _, more = self._late("empathy", "empathize", "empathised", empathy)
        return act, step, judgements + more


def cue_limit() -> int:
    from facilitator.recorded.acts import cue_table

    return cue_table().more_alone_words
