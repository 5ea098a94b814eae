"""Moderation: whether a turn came from the partner whose turn it was, and whether someone
talked over it. Pure: it returns what to record and say, and whether the turn counts.

- The partner who should be listening answered (the voice is sure of it): the turn is not
  handed on; an `interruption` (`wrong_speaker`) and a gentle reminder. After two such
  reminders in a row the turn is taken anyway, in case the voices are confused.
- Someone talked over the turn: an `interruption` per stretch and one reminder after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from facilitator.core import Expectation, Note, Say
from facilitator.prompts import fill

MAX_WRONG_IN_A_ROW = 2


@dataclass
class Moderation:
    take: bool                              # hand the turn to the conversation
    notes: list[Note] = field(default_factory=list)
    says: list[Say] = field(default_factory=list)
    wrong_in_a_row: int = 0


def moderate(who, expectation: Expectation, names: dict[str, str], wrong_in_a_row: int,
             min_confidence: float, prompts: dict[str, str], audio_start: float,
             span: tuple[float, float]) -> Moderation:
    """`who` is the speaker room's answer (`WhoSpoke`); `audio_start` the session time at
    which the turn's audio starts; `span` its speech start and end."""
    out_of_turn = (who.confidence is not None and expectation.speaker is not None
                   and who.speaker is not None and who.speaker != expectation.speaker
                   and who.confidence >= min_confidence)
    if out_of_turn and wrong_in_a_row < MAX_WRONG_IN_A_ROW:
        note = Note("interruption", {"speaker": who.speaker, "start": round(span[0], 3),
                                     "end": round(span[1], 3), "kind": "wrong_speaker",
                                     "step": expectation.step})
        say = Say(fill(prompts["wrong_speaker"], speaker=names[who.speaker],
                       owner=names[expectation.speaker]), "wrong_speaker")
        return Moderation(False, [note], [say], wrong_in_a_row + 1)
    talk_over = [i for i in who.interruptions if i.kind != "wrong_speaker"]
    notes = [Note("interruption", {"speaker": i.speaker, "start": round(audio_start + i.start, 3),
                                   "end": round(audio_start + i.end, 3), "kind": i.kind,
                                   "step": expectation.step}) for i in talk_over]
    says = []
    if talk_over and who.speaker:
        says.append(Say(fill(prompts["interruption"], speaker=names[talk_over[0].speaker],
                             owner=names[who.speaker]), "interruption"))
    return Moderation(True, notes, says, 0)
