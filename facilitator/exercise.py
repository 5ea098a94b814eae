"""An exercise as a conversation: a script's state machine (`Dialogue`) and its judge.

Each turn that the step judges (a mirror, a summary, a Sender's statement ...) is judged
here, written as a `verdict` note, and handed to the dialogue with its verdict; the dialogue
answers with the next steps and prompts. Any script in `prompts/` runs this way, so a new
exercise is new data, not new loop code.
"""

from __future__ import annotations

from facilitator import prompts as prompt_files
from facilitator.core import Action, Expectation, HeardTurn, Note, Say
from facilitator.dialogue import Dialogue
from facilitator.judging import Judge


class ExerciseConversation:
    def __init__(self, dialogue: Dialogue, judge: Judge,
                 restored: list[Action] | None = None) -> None:
        """`restored`: the actions of a resumed session (from `Dialogue.restore`), said
        instead of the script's start."""
        self.dialogue = dialogue
        self.judge = judge
        self.restored = restored
        self.common_prompts = prompt_files.common()["prompts"]

    @property
    def expectation(self) -> Expectation:
        return self.dialogue.expectation

    @property
    def finished(self) -> bool:
        return self.dialogue.finished

    @property
    def names(self) -> dict[str, str]:
        return self.dialogue.names

    def start(self) -> list[Action]:
        return list(self.restored) if self.restored is not None else self.dialogue.start()

    def on_turn(self, turn: HeardTurn) -> list[Action]:
        dialogue = self.dialogue
        actions: list[Action] = []
        verdict = None
        judgement = dialogue.judgement_for(turn.text)
        if judgement:
            kind, context = judgement
            verdict = self.judge.judge(kind, context, turn.text)
            actions.append(Note("verdict", {
                "kind": verdict.kind, "label": verdict.label, "score": verdict.score,
                "missing": verdict.missing, "intrusions": verdict.intrusions,
                "passed": verdict.passed, "step": dialogue.expectation.step,
                "round": dialogue.round, "attempt": dialogue.tries + 1,
                "reason": verdict.reason, "detail": dict(verdict.detail)}))
        return actions + dialogue.on_turn(turn.text, verdict)

    def on_silence(self) -> list[Action]:
        speaker = self.dialogue.expectation.speaker
        name = self.dialogue.names.get(speaker, "") if speaker else ""
        return [Say(prompt_files.fill(self.common_prompts["silence_reminder"], speaker=name),
                    "silence_reminder")]

    def skip(self) -> list[Action]:
        return self.dialogue.skip()

    def override(self, passed: bool) -> list[Action]:
        return self.dialogue.override(passed)
