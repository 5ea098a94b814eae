"""Fakes of the live loop's rooms, for tests that run in milliseconds.

- `ToneLines`: partners' lines as distinct synthetic voiced sounds that webrtcvad hears as
  speech (no espeak), with their words;
- `FakeTranscriber`: returns the words the simulated room played in the window it is given
  (found by matching the window's samples against the lines), in proportion to how much of
  each line the window holds, so cues appear only once their end is heard;
- `FakeAttributor`: who spoke, from a script of answers (or by turn order);
- `NullRenderer`/`NullVoice`: prompts take no time and make no sound;
- `ArraySource`: frames from one array, as fast as possible.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from facilitator.audio_in import Frame
from facilitator.core import SAMPLE_RATE, words
from facilitator.speakers.live import WhoSpoke
from facilitator.speech_out import SpokenPrompt
from facilitator.transcribe import Transcript

BLOCK = 480          # samples matched at a time (one 30 ms frame)


def voiced_sound(seconds: float, seed: int) -> np.ndarray:
    """A vowel-like sound (a 120-220 Hz voice with harmonics, syllable-rate loudness) that
    webrtcvad takes for speech; every `seed` gives other samples."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    pitch = rng.uniform(120, 220)
    wave = sum(np.sin(2 * np.pi * pitch * k * t + rng.uniform(0, 6)) / k for k in range(1, 8))
    syllables = 0.55 + 0.45 * np.sin(2 * np.pi * rng.uniform(3.5, 5.0) * t) ** 2
    noise = rng.normal(0, 0.02, t.size)
    audio = 0.25 * wave * syllables / 2.6 + noise
    return (np.clip(audio, -1, 1) * 32767).astype(np.int16)


@dataclass
class SpokenLine:
    text: str
    audio: np.ndarray


class ToneLines:
    """Lines of text made into distinct voiced sounds, about 0.3 s a word."""

    def __init__(self, seconds_per_word: float = 0.3) -> None:
        self.seconds_per_word = seconds_per_word
        self.lines: list[SpokenLine] = []

    def line(self, text: str) -> np.ndarray:
        seconds = max(0.6, self.seconds_per_word * len(words(text)))
        audio = voiced_sound(seconds, seed=len(self.lines) + 1)
        self.lines.append(SpokenLine(text, audio))
        return audio

    def conversation(self, texts: list[str], gap_s: float = 3.0, lead_s: float = 1.0) -> np.ndarray:
        """The lines one after the other, `gap_s` of silence after each."""
        parts = [np.zeros(int(lead_s * SAMPLE_RATE), np.int16)]
        for text in texts:
            parts += [self.line(text), np.zeros(int(gap_s * SAMPLE_RATE), np.int16)]
        return np.concatenate(parts)


class FakeTranscriber:
    """The words of the lines the window holds: each line's words in the share of its
    samples found in the window (its first words for a start, all once its end is in)."""

    def __init__(self, lines: ToneLines) -> None:
        self.lines = lines
        self.calls: list[int] = []

    def set_glossary(self, words_: str) -> None:
        pass

    def warm_up(self) -> None:
        pass

    def transcribe(self, audio: np.ndarray, context: str = "") -> Transcript:
        self.calls.append(len(audio))
        audio = np.asarray(audio)
        if audio.dtype != np.int16:
            audio = (np.clip(audio, -1, 1) * 32767).astype(np.int16)
        said: list[str] = []
        for line in self.lines.lines:
            share = _share_of(line.audio, audio)
            if share <= 0:
                continue
            line_words = line.text.split()
            said += line_words[: max(1, int(round(share * len(line_words))))] if share < 0.97 \
                else line_words
        return Transcript(" ".join(said))


def _share_of(line: np.ndarray, window: np.ndarray) -> float:
    """How much of `line` (share of its blocks) appears in `window`, by exact samples."""
    haystack = window.tobytes()
    blocks = len(line) // BLOCK
    if blocks == 0:
        return 0.0
    found = sum(1 for b in range(blocks)
                if haystack.find(line[b * BLOCK:(b + 1) * BLOCK].tobytes()) >= 0)
    return found / blocks


@dataclass
class FakeAttributor:
    """Who spoke: `answers` in order (then turn order); each call is recorded."""

    answers: list[WhoSpoke] = field(default_factory=list)
    method: str = "voice"
    calls: list[str | None] = field(default_factory=list)
    raises: Exception | None = None

    def decide(self, audio, stereo, expected) -> WhoSpoke:
        self.calls.append(expected)
        if self.raises is not None:
            raise self.raises
        if self.answers:
            return self.answers.pop(0)
        return WhoSpoke(expected, 0.9, self.method)


class NullVoice:
    """Prompts are 'spoken' in no time and silently; what was said is kept."""

    renderer = None

    def __init__(self, duration_s: float = 0.5) -> None:
        self.duration_s = duration_s
        self.said: list[str] = []

    def say(self, text: str) -> SpokenPrompt:
        self.said.append(text)
        return SpokenPrompt(text, self.duration_s, time.monotonic())

    def close(self) -> None:
        pass


class NullRenderer:
    """A renderer that renders nothing (for a `Voice` with a `SilentOutput`)."""

    def prepare(self, texts) -> None:
        pass

    def render(self, text: str):
        from facilitator.speech_out import Rendered

        return Rendered(np.zeros(1600, np.float32), SAMPLE_RATE)


class ArraySource:
    """Frames of 30 ms from one int16 array, as fast as the loop takes them."""

    name = "test"
    sample_rate = SAMPLE_RATE
    frame_samples = BLOCK

    def __init__(self, audio: np.ndarray, on_frame: Callable[[float], None] | None = None) -> None:
        self.audio = audio
        self.on_frame = on_frame
        self.closed = False

    def frames(self):
        for start in range(0, len(self.audio) - BLOCK + 1, BLOCK):
            if self.closed:
                return
            t = start / SAMPLE_RATE
            if self.on_frame is not None:
                self.on_frame(t)
            yield Frame(self.audio[start:start + BLOCK], t, None, time.monotonic())

    def close(self) -> None:
        self.closed = True
