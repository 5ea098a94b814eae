"""How long to keep waiting after a short silence: the words and the voice together.

`ThoughtEnd.wait_s(text, step, audio, speech_end_s)` is the silence (seconds after the
speech end) that makes the turn over, between `min_end_s` and `max_end_s`:
1. the last word is one of turns.TRAILING_WORDS ("and", "because", "so", "um", ...): the
   turn stays open, `max_end_s`;
2. else the text model (words.py) gives P(finished | words, step), the prosody (prosody.py)
   moves its log-odds by `prosody_weight` times its score (a fall and final lengthening
   towards finished; level or rising pitch away), and the probability is read through
   `knots` (piecewise linear, probability -> seconds);
3. a sentence that has ended where the model thinks the turn goes on (P(boundary) above
   P(finished)) waits at least `boundary_end_s`.
`decide(...)` gives the same wait with its reasons (for logs and the benchmark).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from facilitator.core import words
from facilitator.turn_end.prosody import Prosody, ProsodyOptions, analyse
from facilitator.turn_end.words import WEIGHTS, TextModel, TextScores, ThoughtModelMissing
from facilitator.turns import TRAILING_WORDS

__all__ = ["ThoughtEnd", "ThoughtEndOptions", "ThoughtDecision", "ThoughtModelMissing"]


@dataclass(frozen=True)
class ThoughtEndOptions:
    """How ThoughtEnd turns words and voice into a wait.

    min_end_s: the shortest wait, for words and voice that plainly say "finished".
    max_end_s: the longest wait, for a thought plainly going on (a trailing "and").
    knots: (P(finished), wait in s) points, read piecewise linearly; below the first
      point the wait is max_end_s, above the last min_end_s (clipped to the two).
    boundary_end_s: the least wait when a sentence has just ended but the model expects
      more (P(boundary) > P(finished)): longer than people's pauses between sentences.
    prosody_weight: how far the voice moves the text's log-odds (its score is in [-1, 1]);
      0 ignores the voice.
    use_prosody: False: text only (audio is not analysed).
    trailing_words: last words that always keep the turn open (turns.TRAILING_WORDS).
    weights: the text model's weights file.
    prosody: how the tail of the audio is read (prosody.ProsodyOptions).
    """

    min_end_s: float = 0.7
    max_end_s: float = 2.8
    knots: tuple[tuple[float, float], ...] = ((0.08, 2.8), (0.2, 2.0), (0.35, 1.6), (0.5, 1.0), (0.62, 0.7))
    boundary_end_s: float = 1.7
    prosody_weight: float = 0.8
    use_prosody: bool = True
    trailing_words: frozenset[str] = TRAILING_WORDS
    weights: Path = WEIGHTS
    prosody: ProsodyOptions = field(default_factory=ProsodyOptions)


@dataclass(frozen=True)
class ThoughtDecision:
    wait_s: float
    reason: str                  # "trailing", "empty", "model", "boundary"
    p_finished: float            # after the prosody
    text: TextScores
    prosody: Prosody
    prosody_ms: float = 0.0


_MODELS: dict[Path, TextModel] = {}


def _model(path: Path) -> TextModel:
    path = Path(path)
    if path not in _MODELS:
        _MODELS[path] = TextModel.load(path)
    return _MODELS[path]


class ThoughtEnd:
    """Decides, after each short silence, how long the silence must last to end the turn.

    Loads the text model at construction (ThoughtModelMissing if its weights are missing or
    corrupt); one instance serves a whole session and is cheap to call (< 1 ms for the text,
    ~5-10 ms for the voice)."""

    def __init__(self, options: ThoughtEndOptions | None = None, **overrides):
        options = options or ThoughtEndOptions()
        if overrides:
            options = ThoughtEndOptions(**{**options.__dict__, **overrides})
        if not 0 < options.min_end_s <= options.max_end_s:
            raise ValueError(f"need 0 < min_end_s <= max_end_s, got {options.min_end_s}, {options.max_end_s}")
        self.options = options
        self.model = _model(options.weights)

    def wait_s(self, text: str, step: str | None, audio: np.ndarray | None = None,
               speech_end_s: float | None = None) -> float:
        """Seconds of silence after the speech end that end the turn (min_end_s..max_end_s).

        text: the words so far (Whisper's transcript of the open turn); step: the dialogue
        step ("send", "mirror", ...; None if unknown); audio: the turn's audio, int16 or
        float32, 16 kHz mono (None: words only); speech_end_s: where the speech ended, in
        seconds from the start of `audio` (None: its end)."""
        return self.decide(text, step, audio, speech_end_s).wait_s

    def decide(self, text: str, step: str | None, audio: np.ndarray | None = None,
               speech_end_s: float | None = None) -> ThoughtDecision:
        o = self.options
        said = words(text or "")
        scores = self.model.scores(text or "", step)
        if not said:
            return ThoughtDecision(o.max_end_s, "empty", 0.0, scores, Prosody("unknown", reason="no words"))
        if said[-1] in o.trailing_words:
            return ThoughtDecision(o.max_end_s, "trailing", scores.finished, scores,
                                   Prosody("unknown", reason="not needed"))
        prosody, ms = Prosody("unknown", reason="not used"), 0.0
        if o.use_prosody and audio is not None and o.prosody_weight:
            start = time.perf_counter()
            prosody = analyse(audio, speech_end_s, options=o.prosody)
            ms = (time.perf_counter() - start) * 1000
        p = min(max(scores.finished, 1e-6), 1 - 1e-6)
        logit = math.log(p / (1 - p)) + (o.prosody_weight * prosody.score if prosody.state != "unknown" else 0.0)
        p = 1 / (1 + math.exp(-logit))
        xs = [k[0] for k in o.knots]
        ys = [k[1] for k in o.knots]
        wait = float(np.interp(p, xs, ys, left=o.max_end_s, right=o.min_end_s))
        reason = "model"
        if scores.boundary > scores.finished and wait < o.boundary_end_s:
            wait, reason = o.boundary_end_s, "boundary"
        wait = min(max(wait, o.min_end_s), o.max_end_s)
        return ThoughtDecision(round(wait, 3), reason, round(p, 4), scores, prosody, round(ms, 2))
