"""Voice activity and end of turn: webrtcvad frames grouped into turns.

`TurnSegmenter` follows speech and silence frame by frame and reports a `Pause` when the
speaker stops for `pause_ms` (`cue_read_ms` in a step that expects a cue: a running
transcript that hears the cue while it is spoken); the live loop then reads the words so
far and asks `EndOfTurnPolicy` whether the turn is over: `cue_end_ms` after a cue the step
expects ("did I get that") ends the words read up to the speech's end (`word_cue_end_ms`
after a lone one-word cue or words read up to a comma: "Yes, | exactly." pauses at the
comma), after
`complete_end_s` of silence when the words are plainly complete, and after
`incomplete_end_s` when they end mid-thought ("... and", "because"). With
`end_model = "words"` (the default) the wait after each pause is decided from the words
(and the voice) instead (`facilitator.turn_end.ThoughtEnd`, handed in by the assembly as a
`wait_for`), never shorter than `least_end_s`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import numpy as np
import webrtcvad

from facilitator.config import TurnsConfig
from facilitator.core import HESITATIONS, SAMPLE_RATE, words

TRAILING_WORDS = frozenset(
    """and but or so because cause 'cause since if when while though although unless until
    that which who whose where then than as like about with to of for from in on at by into
    the a an my your our their his her its this these those i i'm we you he she they it's
    um uh er and-uh also plus just very really more""".split()
)

# Words that join a thought to the next one; a reading that starts with one and runs on
# past what the speech could hold heard it, then went on inventing (see dangling_word).
JOINING_WORDS = frozenset("and but or so because cause 'cause since then um uh er also plus".split())
MOST_WORDS_PER_S = 4.0   # faster than people speak


CONTINUING_MARKS = ("...", "…", ",", "-", ";", ":")
OPENING_SOUNDS = HESITATIONS | {"oh", "well"}


@dataclass
class Pause:
    """The speaker has been silent for `silence_s` since `speech_end`."""

    speech_end: float
    silence_s: float
    first: bool          # True on the frame where the pause was first noticed


@dataclass
class TurnAudio:
    start: float                       # input time of the first kept sample (with pre-roll)
    speech_start: float
    speech_end: float = 0.0
    chunks: list[np.ndarray] = field(default_factory=list)
    stereo_chunks: list[np.ndarray] = field(default_factory=list)
    voiced_ms: int = 0
    pauses: list[float] = field(default_factory=list)   # silences inside the turn (s), each
                                                        # followed by more of its speech
    pause_starts: list[float] = field(default_factory=list)   # where each began (speech_end)

    def audio(self, until: float | None = None) -> np.ndarray:
        audio = np.concatenate(self.chunks) if self.chunks else np.zeros(0, np.int16)
        if until is not None:
            audio = audio[: max(0, int(round((until - self.start) * SAMPLE_RATE)))]
        return audio

    def stereo(self) -> np.ndarray | None:
        return np.concatenate(self.stereo_chunks) if self.stereo_chunks else None


class TurnSegmenter:
    """Frame-by-frame speech/silence state with pre-roll; holds the audio of the open turn."""

    def __init__(self, config: TurnsConfig, sample_rate: int = SAMPLE_RATE):
        self.config = config
        self.sample_rate = sample_rate
        self.vad = webrtcvad.Vad(config.vad_aggressiveness)
        self.frame_ms = config.frame_ms
        self._start_frames = max(1, config.start_speech_ms // self.frame_ms)
        self._preroll_frames = max(1, config.preroll_ms // self.frame_ms)
        self._history: list[tuple[np.ndarray, np.ndarray | None, float, bool]] = []
        self.turn: TurnAudio | None = None
        self._silence_frames = 0
        self._pause_reported = False

    def reset(self) -> None:
        self._history.clear()
        self.turn = None
        self._silence_frames = 0
        self._pause_reported = False

    def is_speech(self, samples: np.ndarray) -> bool:
        if not samples.any():
            return False
        return self.vad.is_speech(samples.tobytes(), self.sample_rate)

    def push(self, samples: np.ndarray, t: float, stereo: np.ndarray | None = None,
             pause_ms: int | None = None) -> Pause | str | None:
        """Feed one frame. Returns "start" when a turn opens, a Pause while silent for
        `pause_ms` (the config's unless given), else None."""
        voiced = self.is_speech(samples)
        frame_s = len(samples) / self.sample_rate
        if self.turn is None:
            self._history.append((samples, stereo, t, voiced))
            self._history = self._history[-self._preroll_frames:]
            recent = self._history[-self._start_frames:]
            if len(recent) == self._start_frames and all(v for *_, v in recent):
                first_voiced = recent[0][2]
                self.turn = TurnAudio(start=self._history[0][2], speech_start=first_voiced)
                for s, st, _, _ in self._history:
                    self.turn.chunks.append(s)
                    if st is not None:
                        self.turn.stereo_chunks.append(st)
                self.turn.voiced_ms = self._start_frames * self.frame_ms
                self.turn.speech_end = t + frame_s
                self._history.clear()
                self._silence_frames = 0
                self._pause_reported = False
                return "start"
            return None
        self.turn.chunks.append(samples)
        if stereo is not None:
            self.turn.stereo_chunks.append(stereo)
        if voiced:
            if self._silence_frames:
                self.turn.pauses.append(round(self._silence_frames * frame_s, 3))
                self.turn.pause_starts.append(self.turn.speech_end)
            self.turn.voiced_ms += self.frame_ms
            self.turn.speech_end = t + frame_s
            self._silence_frames = 0
            self._pause_reported = False
            return None
        self._silence_frames += 1
        silence_s = self._silence_frames * frame_s
        if silence_s * 1000 >= (self.config.pause_ms if pause_ms is None else pause_ms):
            first = not self._pause_reported
            self._pause_reported = True
            return Pause(self.turn.speech_end, silence_s, first)
        return None

    @property
    def silence_ms(self) -> int:
        """How long the speaker of the open turn has been silent (0 while they speak)."""
        return self._silence_frames * self.frame_ms

    def close_turn(self) -> TurnAudio | None:
        turn, self.turn = self.turn, None
        self._history.clear()
        self._silence_frames = 0
        self._pause_reported = False
        return turn


def ends_with_cue(text: str, cues: list[str], tolerance: float = 0.78) -> str | None:
    """The expected cue the words end with, allowing for recognition slips ("did I get mad")."""
    said = words(text)
    if not said:
        return None
    for cue in cues:
        wanted = words(cue)
        if not wanted:
            continue
        for extra in (0, 1, -1):
            n = len(wanted) + extra
            if n <= 0 or n > len(said):
                continue
            tail = " ".join(said[-n:])
            if tail == " ".join(wanted):
                return cue
            # A slip in the last words ("did I get mad") is forgiven; the cue's first word must be there.
            if (len(wanted) >= 3 and said[-n] == wanted[0]
                    and difflib.SequenceMatcher(None, tail, " ".join(wanted)).ratio() >= tolerance):
                return cue
    return None


def cue_may_go_on(text: str, cue: str) -> bool:
    """A cue that often opens a longer answer: a lone one-word cue ("Yes, | exactly.": the
    voice pauses at the comma) or words read up to a comma ("Yes, exactly, | that is what I
    meant"); these wait `word_cue_end_ms`. A one-word cue that ends a longer answer ("Yes,
    exactly.", "No, not exactly.") is as final as "did I get that"."""
    if text.rstrip().endswith(CONTINUING_MARKS):
        return True
    said = [w for w in words(text) if w not in OPENING_SOUNDS]
    return len(words(cue)) == 1 and len(said) <= 1


def dangling_word(alone: str, last_said: str, seconds: float) -> str:
    """The trailing word ("and", "because") that the last `seconds` of speech, read alone,
    end on and the reading of the whole stretch (ending on `last_said`) left out; "" for
    none. A reading with more words than that much speech can hold is Whisper going on past
    a lone word ("And that's how you feel about your appearance." for "... parents, and"):
    then its first word is the one heard, if it joins a thought to a next one."""
    heard = words(alone)
    if len(heard) > MOST_WORDS_PER_S * seconds + 1:
        heard = heard[:1] if heard[0] in JOINING_WORDS else []
    return heard[-1] if heard and heard[-1] in TRAILING_WORDS and heard[-1] != last_said else ""


def words_complete(text: str) -> bool:
    """Plainly complete: ends like a finished sentence, not on 'and', 'because', a comma, '...'."""
    stripped = text.strip()
    if not stripped:
        return False
    if stripped.endswith(CONTINUING_MARKS):
        return False
    said = words(stripped)
    if not said or said[-1] in TRAILING_WORDS:
        return False
    return True


@dataclass
class EndOfTurnPolicy:
    config: TurnsConfig

    def decide(self, text: str, silence_s: float, cues: list[str],
               read_to_end: bool = True, wait_s: float | None = None) -> str | None:
        """Why the turn ends now ("cue", "complete", "silence"), or None to keep listening.
        `read_to_end`: `text` holds the words up to the speech's end (a cue heard in words
        read earlier, "did I get that" of "did I get that wrong before", ends nothing).
        `wait_s`: the silence that ends this turn, decided from its words and voice
        (`[turns] end_model = "words"`, "words+voice"); None: the fixed complete_end_s / incomplete_end_s."""
        if text and cues and read_to_end and silence_s * 1000 >= self.config.cue_end_ms:
            cue = ends_with_cue(text, cues)
            if cue and (silence_s * 1000 >= self.config.word_cue_end_ms or not cue_may_go_on(text, cue)):
                return "cue"
        if wait_s is not None:
            if silence_s < min(wait_s, self.config.incomplete_end_s):
                return None
            return "complete" if words_complete(text) else "silence"
        if silence_s >= self.config.incomplete_end_s:
            return "silence"
        if silence_s >= self.config.complete_end_s and words_complete(text):
            return "complete"
        return None
