"""Hands-free commands: a turn that is only "repeat that", "pause", "resume" or "stop"."""

from __future__ import annotations

from facilitator import prompts
from facilitator.core import words


class CommandReader:
    def __init__(self, table: dict[str, list[str]] | None = None):
        table = table if table is not None else prompts.common().get("commands", {})
        self.fillers = {self._norm(w) for w in table.get("fillers", [])}
        self.phrases: dict[str, str] = {}
        for action in ("repeat", "pause", "resume", "stop"):
            for phrase in table.get(action, []):
                self.phrases[self._norm(phrase)] = action

    @staticmethod
    def _norm(text: str) -> str:
        return " ".join(words(text))

    def read(self, text: str) -> str | None:
        """The command the whole turn says, or None when it is dialogue."""
        words = self._norm(text).split()
        while words and words[0] in self.fillers:
            words.pop(0)
        while words and words[-1] in self.fillers:
            words.pop()
        return self.phrases.get(" ".join(words))
