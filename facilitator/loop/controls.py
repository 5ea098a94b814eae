"""Controls: what a voice command or a coach's click does. Pure: returns the outcome.

stop ends the session after a goodbye; pause holds the dialogue (turns are still recorded,
nothing is judged) until resume, which repeats the last prompt; repeat says the last prompt
again; skip moves on as if the step had gone well; override tells the conversation that a
judgement was wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from facilitator.core import Note, Say
from facilitator.events import Control


@dataclass
class ControlOutcome:
    says: list[Say] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    paused: bool = False
    stop: bool = False
    skip: bool = False
    override: bool | None = None           # the judged turn counts as passed (True) or not


def control_outcome(control: Control, paused: bool, last_prompt: str | None,
                    prompts: dict[str, str], passing_labels: dict[str, set[str]]) -> ControlOutcome:
    action = control.action
    outcome = ControlOutcome(paused=paused)
    if action == "stop":
        outcome.says.append(Say(prompts["stopped"], "stopped"))
        outcome.stop = True
    elif action == "pause":
        outcome.paused = True
        outcome.says.append(Say(prompts["paused"], "paused"))
    elif action == "resume":
        outcome.paused = False
        outcome.says.append(Say(prompts["resumed"], "resumed"))
        if last_prompt:
            outcome.says.append(Say(last_prompt, "repeat"))
    elif action == "repeat":
        outcome.says.append(Say(last_prompt, "repeat") if last_prompt
                            else Say(prompts["nothing_to_repeat"], "nothing_to_repeat"))
    elif action == "skip":
        outcome.says.append(Say(prompts["skipped"], "skipped"))
        outcome.skip = True
    elif action == "override":
        detail = control.detail or {}
        kind, label = detail.get("kind"), detail.get("label")
        outcome.notes.append(Note("override", {"kind": kind, "label": label,
                                               "source": control.source}))
        outcome.override = label in passing_labels.get(kind or "", set())
    return outcome
