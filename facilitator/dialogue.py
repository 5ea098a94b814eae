"""Dialogue room: a state machine that runs any script from `prompts/`.

It is told each finished turn (its words and the judge's verdict) and answers with what
to do next: steps started, sentences to speak, the end. It never listens or speaks itself,
so it is tested with plain strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from facilitator import prompts as prompt_files
from facilitator.core import Action, Expectation, Finished, Say, StepStarted  # noqa: F401 (re-exported)
from facilitator.judging import Verdict
from facilitator.core import words

ROLES = ("sender", "receiver", "none")


class ScriptError(Exception):
    pass


@dataclass
class Step:
    name: str
    role: str = "sender"
    prompt: str | None = None
    cues: list[str] = field(default_factory=list)
    judge: str | None = None
    judge_other: str | None = None
    context: str = "last_message"
    collect: bool = False
    collect_previous: bool = False
    answer: str | None = None
    on_yes: str | None = None
    on_no: str | None = None
    on_other: str | None = None
    next: str | None = None
    retry: str | None = None
    max_tries: int = 3
    end_round: bool = False
    end: bool = False


@dataclass
class Script:
    name: str
    title: str
    steps: dict[str, Step]
    prompts: dict[str, str]
    first_step: str
    rounds: int = 1
    round_start: str | None = None
    after_rounds: str | None = None
    glossary: str = ""

    @classmethod
    def load(cls, name_or_path: str) -> "Script":
        data = prompt_files.load_toml(name_or_path)
        head = data.get("script", {})
        steps: dict[str, Step] = {}
        for raw in data.get("steps", []):
            try:
                step = Step(**raw)
            except TypeError as error:
                raise ScriptError(f"script {name_or_path}: step {raw.get('name')}: {error}") from None
            if step.role not in ROLES:
                raise ScriptError(f"script {name_or_path}: step {step.name}: unknown role {step.role}")
            steps[step.name] = step
        script = cls(
            name=head.get("name", str(name_or_path)), title=head.get("title", ""),
            steps=steps, prompts=dict(data.get("prompts", {})),
            first_step=head.get("first_step", next(iter(steps), "")),
            rounds=int(head.get("rounds", 1)), round_start=head.get("round_start"),
            after_rounds=head.get("after_rounds"), glossary=head.get("glossary", ""),
        )
        script.validate()
        return script

    def validate(self) -> None:
        names = set(self.steps)
        for step in self.steps.values():
            for target in (step.next, step.retry, step.on_yes, step.on_no, step.on_other):
                if target and target not in names:
                    raise ScriptError(f"step {step.name} leads to unknown step {target}")
            if step.prompt and step.prompt not in self.prompts:
                raise ScriptError(f"step {step.name} speaks unknown prompt {step.prompt}")
        for target in (self.first_step, self.round_start, self.after_rounds):
            if target and target not in names:
                raise ScriptError(f"script names unknown step {target}")




@dataclass
class JudgedTurn:
    """The last judged turn, for a coach's override."""

    step: str
    kind: str
    passed: bool
    round: int
    sender: str
    messages: list[str]


class AnswerReader:
    """Reads a turn as "yes", "no" or "other" from the phrase lists in prompts/common.toml."""

    def __init__(self, yes: list[str], no: list[str]):
        self.yes = sorted((self._norm(p) for p in yes), key=len, reverse=True)
        self.no = sorted((self._norm(p) for p in no), key=len, reverse=True)

    @staticmethod
    def _norm(text: str) -> str:
        return " ".join(words(text))

    def read(self, text: str) -> str:
        said = self._norm(text)
        if not said:
            return "other"
        words = said.split()
        for label, phrases in (("no", self.no), ("yes", self.yes)):
            for phrase in phrases:
                if said == phrase or (said.startswith(phrase + " ") and len(words) <= len(phrase.split()) + 4):
                    return label
        return "other"


class Dialogue:
    def __init__(self, script: Script, names: dict[str, str], first_sender: str = "A",
                 feedback: Callable[[Verdict, str, str], str | None] | None = None,
                 answers: AnswerReader | None = None):
        self.script = script
        self.names = names
        self.sender = first_sender
        self.round = 1
        self.step = script.steps[script.first_step]
        self.messages: list[str] = []
        self.tries = 0
        self.finished = False
        self.last_spoken: str | None = None
        self._previous_turn = ""
        self.last_judged: JudgedTurn | None = None
        self._feedback = feedback
        if answers is None:
            table = prompt_files.common().get("answers", {})
            answers = AnswerReader(table.get("yes", []), table.get("no", []))
        self.answers = answers

    @property
    def receiver(self) -> str:
        return "B" if self.sender == "A" else "A"

    def _fill(self, key: str) -> str:
        template = self.script.prompts.get(key) or prompt_files.common()["prompts"][key]
        return prompt_files.fill(
            template, sender=self.names[self.sender], receiver=self.names[self.receiver]
        )

    @property
    def expectation(self) -> Expectation:
        role = self.step.role
        speaker = {"sender": self.sender, "receiver": self.receiver}.get(role)
        return Expectation(self.step.name, role, speaker, list(self.step.cues),
                           weighty=self.step.judge is not None)

    def start(self) -> list[Action]:
        return self._enter(self.step.name)

    def restore(self, step: str, round_: int, sender: str, messages: list[str]) -> list[Action]:
        """Continue an interrupted session at `step` (from its record)."""
        if step not in self.script.steps:
            raise ScriptError(f"cannot resume at unknown step {step}")
        self.round, self.sender, self.messages = round_, sender, list(messages)
        return self._enter(step)

    def judgement_for(self, text: str) -> tuple[str, list[str]] | None:
        """(kind, context) of the judgement this turn needs, or None."""
        step = self.step
        kind = step.judge
        if step.answer == "yes_no":
            kind = step.judge_other if self.answers.read(text) == "other" else None
        if not kind:
            return None
        if kind == "sender_statement":
            return kind, []
        if step.context == "all_messages":
            return kind, list(self.messages)
        return kind, self.messages[-1:] if self.messages else []

    def on_turn(self, text: str, verdict: Verdict | None = None) -> list[Action]:
        if self.finished:
            return []
        step = self.step
        self._previous_turn = text
        actions: list[Action] = []
        if verdict is not None:
            self.last_judged = JudgedTurn(step.name, verdict.kind, verdict.passed, self.round,
                                          self.sender, list(self.messages))
        if verdict is not None and not verdict.passed:
            self.tries += 1
            coaching = self._feedback(verdict, self.names[self.sender], self.names[self.receiver]) if self._feedback else None
            if self.tries < step.max_tries:
                if coaching:
                    actions.append(Say(coaching, f"feedback_{verdict.kind}"))
                target = step.retry or step.name
                if target == step.name:
                    return actions  # same step again: the turn is simply tried once more
                return actions + self._enter(target)
            if step.role == "receiver":
                actions.append(Say(self._fill("max_tries_reached"), "max_tries_reached"))
        if step.collect:
            self.messages.append(text)
        if step.answer == "yes_no":
            answer = self.answers.read(text)
            target = {"yes": step.on_yes, "no": step.on_no}.get(answer) or step.on_other or step.next
        else:
            target = step.next
        return actions + self._advance(step, target)

    def _advance(self, step: Step, target: str | None) -> list[Action]:
        if step.end_round or target is None and not step.end:
            return self._end_round()
        if step.end:
            self.finished = True
            return [Finished()]
        return self._enter(target)

    def _end_round(self) -> list[Action]:
        if self.round >= self.script.rounds:
            if self.script.after_rounds:
                return self._enter(self.script.after_rounds)
            self.finished = True
            return [Finished()]
        self.round += 1
        self.sender = self.receiver
        self.messages = []
        return self._enter(self.script.round_start or self.script.first_step)

    def _enter(self, name: str) -> list[Action]:
        step = self.script.steps[name]
        self.step = step
        self.tries = 0
        actions: list[Action] = [
            StepStarted(name, self.round, self.sender, self.receiver, list(self.messages))
        ]
        if step.collect_previous and self._previous_turn:
            self.messages.append(_strip_leading_yes(self._previous_turn))
        if step.prompt:
            text = self._fill(step.prompt)
            actions.append(Say(text, step.prompt))
        if step.role == "none":
            actions += self._advance(step, step.next)
        return actions

    def skip(self) -> list[Action]:
        """Move on as if the current step had gone well (a coach's or a partner's choice)."""
        step = self.step
        target = step.on_yes if step.answer == "yes_no" else step.next
        return self._advance(step, target)

    def override(self, passed: bool) -> list[Action]:
        """The coach says the last verdict was wrong.

        Marked passed: a step still waiting for a retry moves on as if it had passed. Marked
        failed: the dialogue goes back to the judged step (its round, its Sender, the message
        as it was before that turn) and asks for it once more.
        """
        judged = self.last_judged
        if judged is None or judged.passed == passed:
            return []
        self.last_judged = None
        if passed:
            if self.step.name != judged.step or self.finished:
                return []        # it had already moved on after the last try
            return [Say(self._fill("coach_accepted"), "coach_accepted")] + self.skip()
        self.finished = False
        self.round, self.sender, self.messages = judged.round, judged.sender, list(judged.messages)
        return [Say(self._fill("coach_retry"), "coach_retry")] + self._enter(judged.step)


def _strip_leading_yes(text: str) -> str:
    return re.sub(r"^\s*(yes|yeah|yep)\b[\s,.!]*", "", text, flags=re.IGNORECASE).strip() or text
