"""Each partner's own pace: how long they pause inside a turn, learnt as they speak.

People differ: one pauses 1.5 s to find a word, another never stops longer than a
breath between sentences. A fixed shortest wait (`least_end_s`, 1.7 s) must be patient
enough for the first kind, which makes the facilitator slow for the second. `Pacing`
keeps, per partner and kind of turn, the silences *inside* their turns (a pause after which
the same turn went on) and how much speech it has heard from them. The kinds are kept
apart because people pause longer when they say something that matters (a message, a
mirror: `weighty`) than in a "yes" or in enrollment's chat about their day:

- until it has heard `heard_s` of a partner's speech of that kind, their shortest wait is
  `least_end_s` (patient: nothing is known yet; enrollment's two or three sentences are
  enough for the light turns, the partner's first message or mirror for the weighty ones);
- after that it is `margin` times the longest pause they have made inside a turn, between
  `fluent_end_s` and `least_end_s`: a partner who pauses 0.45 s at most gets answered after
  `fluent_end_s`; one who has paused 0.85 s or more keeps the full `least_end_s`.

The longest pause is kept for the whole session (a partner who paused once may again).
`floor_s(speaker)` is that shortest wait; the words and the voice (ThoughtEnd) may ask for
longer, never for less.

Only the pauses the words did not already cover count (`pace_pauses`): a pause after "when",
"because" or "and my phone", where the words alone kept the turn open for `least_end_s` or
more (`shelters`), is the words' business, and the words will wait there again; the pace is
learnt from the pauses after words that looked finished ("... with my parents. | I wanted"),
the only places where the floor is what keeps a thought from being cut. A partner who
pauses long only in mid-sentence is answered after `fluent_end_s` once they finish.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from itertools import zip_longest

__all__ = ["Pacing", "PacingOptions", "pace_pauses"]


@dataclass(frozen=True)
class PacingOptions:
    """fluent_end_s: the shortest wait for a partner who has shown they do not pause long.
    least_end_s: the shortest wait for a partner not yet heard enough, or who pauses long.
    heard_s: seconds of a partner's speech heard before their own pace is trusted.
    margin: the wait is this many times the longest pause heard inside their turns.
    fluent_end_s == least_end_s: everyone gets least_end_s (the pace is not used)."""

    fluent_end_s: float = 0.95
    least_end_s: float = 1.7
    heard_s: float = 6.0
    margin: float = 2.0

    def __post_init__(self) -> None:
        if not 0 < self.fluent_end_s <= self.least_end_s:
            raise ValueError(f"need 0 < fluent_end_s <= least_end_s, got {self.fluent_end_s}, "
                             f"{self.least_end_s}")
        if self.margin < 1 or self.heard_s < 0:
            raise ValueError(f"need margin >= 1 and heard_s >= 0, got {self.margin}, {self.heard_s}")


@dataclass
class _Heard:
    speech_s: float = 0.0
    longest_pause_s: float = 0.0


@dataclass
class Pacing:
    """Per partner ("A", "B"; None for a voice not yet known) and kind of turn (weighty or
    not): speech heard, longest pause."""

    options: PacingOptions = field(default_factory=PacingOptions)
    _partners: dict[tuple[str | None, bool], _Heard] = field(default_factory=dict)

    def heard(self, speaker: str | None, speech_s: float, pauses_s: Sequence[float],
              weighty: bool = False) -> None:
        """A turn of `speaker`'s is over: `speech_s` of voiced audio, with these silences
        inside it (each followed by more of the same turn)."""
        heard = self._partners.setdefault((speaker, weighty), _Heard())
        heard.speech_s += max(0.0, speech_s)
        if pauses_s:
            heard.longest_pause_s = max(heard.longest_pause_s, max(pauses_s))

    def floor_s(self, speaker: str | None, open_pauses: Sequence[float] = (),
                weighty: bool = False) -> float:
        """The shortest silence that may end `speaker`'s turn; `open_pauses`: the silences
        inside the turn still open (a partner who paused long in it is waited for)."""
        o = self.options
        heard = self._partners.get((speaker, weighty))
        if heard is None or heard.speech_s < o.heard_s:
            return o.least_end_s
        longest = max([heard.longest_pause_s, *open_pauses])
        return min(o.least_end_s, max(o.fluent_end_s, o.margin * longest))

    def shelters(self, words_wait_s: float) -> bool:
        """The words alone waited this long at a pause: long enough that the floor did not
        matter there (a pause after them does not tell the partner's pace)."""
        return words_wait_s >= self.options.least_end_s

    def describe(self, speaker: str | None, weighty: bool = False) -> dict:
        """What is known of `speaker`'s pace (for logs and the benchmark)."""
        heard = self._partners.get((speaker, weighty), _Heard())
        return {"speech_s": round(heard.speech_s, 2), "longest_pause_s": round(heard.longest_pause_s, 2),
                "floor_s": round(self.floor_s(speaker, weighty=weighty), 3)}


def pace_pauses(pauses: Sequence[float], starts: Sequence[float],
                sheltered: Collection[float]) -> list[float]:
    """The pauses of a turn that tell the partner's pace: those that did not begin at a speech
    end in `sheltered` (where the words alone waited at least least_end_s: `Pacing.shelters`).
    `pauses` and `starts`: TurnAudio.pauses and TurnAudio.pause_starts (a pause without its
    start counts)."""
    return [pause for pause, start in zip_longest(pauses, starts[: len(pauses)])
            if start is None or start not in sheltered]
