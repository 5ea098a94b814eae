"""Attribution: who spoke each turn, worked out early on one worker thread.

As soon as the speaker falls silent (half a pause), who spoke the turn so far is started on
a one-worker executor, before the words so far are transcribed at the pause, so the two
hardly share the cores: when the pause turns out to end the turn the answer is ready. A
failure in the speaker room never ends a session: that turn goes by turn order and the
error is reported through `on_error`.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Protocol

import numpy as np

from facilitator.speakers.live import TurnOrder, WhoSpoke

LONG_TURN_S = 12.0       # longer turns are worked out early less often (see worth_deciding_again)
REDECIDE_GROWTH = 0.3


class Attributor(Protocol):
    """Who spoke a turn (the speaker room, `facilitator.speakers.live`)."""

    def decide(self, audio: np.ndarray, stereo: np.ndarray | None,
               expected: str | None) -> WhoSpoke: ...


class TurnAudioView(Protocol):
    start: float
    speech_end: float
    voiced_ms: int

    def audio(self) -> np.ndarray: ...
    def stereo(self) -> np.ndarray | None: ...


def worth_deciding_again(length_s: float, new_speech_s: float) -> bool:
    """Early who-spoke at every pause costs work in proportion to the turn, so a long turn
    (a monologue) would cost its square: past `LONG_TURN_S` a new early answer waits until
    the turn has grown by `REDECIDE_GROWTH` of that excess (the turn's end decides anyway)."""
    return new_speech_s >= REDECIDE_GROWTH * max(0.0, length_s - LONG_TURN_S)


class Attribution:
    def __init__(self, attributor: Attributor | None = None,
                 on_error: Callable[[str], None] = lambda message: None,
                 min_turn_ms: int = 300) -> None:
        self.attributor: Attributor = attributor or TurnOrder()
        self.on_error = on_error
        self.min_turn_ms = min_turn_ms
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="who-spoke")
        self._early: Future | None = None
        self._early_speech_end = -1.0
        self.waited_s = 0.0

    @property
    def method(self) -> str:
        return getattr(self.attributor, "method", "voice")

    def use(self, attributor: Attributor) -> str:
        """The voices are learnt: attribute with `attributor` from now on; returns its method."""
        self.attributor = attributor
        return self.method

    def new_turn(self) -> None:
        self._early, self._early_speech_end = None, -1.0

    def start_early(self, turn: TurnAudioView, expected: str | None, final: bool = False) -> None:
        """Start working out who spoke the speech so far, unless it is already under way
        (one at a time: a long turn with many pauses does not pile them up)."""
        if (turn.voiced_ms < self.min_turn_ms or self._early_speech_end == turn.speech_end
                or (self._early is not None and not self._early.done())):
            return
        if not final and not worth_deciding_again(turn.speech_end - turn.start,
                                                  turn.speech_end - self._early_speech_end):
            return
        self._early = self._executor.submit(self.attributor.decide, turn.audio(), turn.stereo(),
                                            expected)
        self._early_speech_end = turn.speech_end

    def decide_turn(self, turn: TurnAudioView, expected: str | None) -> WhoSpoke:
        """Who spoke the whole turn: the early answer if it covers all of it, else now."""
        self.start_early(turn, expected, final=True)
        early = self._early if self._early_speech_end == turn.speech_end else None
        waiting = time.monotonic()
        try:
            if early is not None:
                return early.result()
            return self.attributor.decide(turn.audio(), turn.stereo(), expected)
        except Exception as error:   # noqa: BLE001 - any failure: fall back, say so, go on
            return self._fallback(error, turn.audio(), turn.stereo(), expected)
        finally:
            self.waited_s = time.monotonic() - waiting
            self.new_turn()

    def decide(self, audio: np.ndarray, stereo: np.ndarray | None, expected: str | None) -> WhoSpoke:
        """Who spoke this stretch (one part of a split turn), now."""
        try:
            return self.attributor.decide(audio, stereo, expected)
        except Exception as error:   # noqa: BLE001
            return self._fallback(error, audio, stereo, expected)

    def drop_turn(self) -> None:
        """The turn was noise: wait for its early answer so no work is left behind it."""
        if self._early is not None:
            try:
                self._early.result()
            except Exception:   # noqa: BLE001 - nobody wants the answer
                pass
        self.new_turn()

    def _fallback(self, error: Exception, audio, stereo, expected) -> WhoSpoke:
        self.on_error(f"who spoke could not be worked out for this turn "
                      f"({type(error).__name__}: {error}); it goes by turn order")
        return TurnOrder().decide(audio, stereo, expected)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
