"""The built-in demo: two synthetic partners in a simulated room, fed through the real pipeline.

`SimulatedRoom` is an audio source. It plays each partner's line (espeak-ng voices) as a
microphone would hear it, and waits, like a person, until the facilitator has finished
speaking before the next line. The lines live in `prompts/demo_session.toml`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from facilitator import prompts as prompt_files
from facilitator.core import SAMPLE_RATE
from facilitator.audio_in import Frame, resample
from facilitator.events import Event, EventBus, as_dict
from facilitator.sim.voices import PARTNER_VOICES, phrases_with_pauses


@dataclass
class Line:
    speaker: str              # "A" or "B"
    text: str                 # may hold "|" where the speaker pauses
    step: str | None = None   # the dialogue step this line answers
    audio: np.ndarray | None = None
    interrupt: dict | None = None   # {"speaker", "text", "at"}: the other partner talks over the line


def load_demo_lines(name: str = "demo_session") -> tuple[dict[str, str], list[Line]]:
    data = prompt_files.load_toml(name)
    names = data.get("names", {"A": "Alex", "B": "Sam"})
    lines = [Line(item["speaker"], item["text"], item.get("step"), interrupt=item.get("interrupt"))
             for item in data.get("lines", [])]
    return names, lines


def resume_lines(lines: list[Line], events: list[dict], voices_kept: bool) -> list[Line]:
    """The lines still to say when an interrupted demo resumes: from the first line for
    the step (and round) it stopped in; the enrollment lines first when the voices were
    not kept, since they are asked for again."""
    step = next((e for e in reversed(events) if e.get("type") == "step"), None)
    if step is None:
        return lines
    name, wanted_round = step.get("name"), int(step.get("round", 1))
    rounds, current, round_over = [], 1, False
    for line in lines:
        if line.step == "empathy_confirm":
            round_over = True
        elif line.step == "send" and round_over:
            current, round_over = current + 1, False
        rounds.append(current)
    matches = [i for i, line in enumerate(lines) if line.step == name]
    index = next((i for i in matches if rounds[i] == wanted_round), matches[-1] if matches else 0)
    enrollment = [] if voices_kept else [line for line in lines if (line.step or "").startswith("enroll_")]
    return enrollment + lines[index:]


def render_lines(lines: list[Line], voices: dict[str, str] | None = None,
                 pause_s: float = 1.0) -> None:
    voices = voices or PARTNER_VOICES
    for line in lines:
        phrases = [p.strip() for p in line.text.split("|") if p.strip()]
        line.audio = phrases_with_pauses(phrases, voices[line.speaker], [pause_s])
        if line.interrupt:
            other = phrases_with_pauses([line.interrupt["text"]], voices[line.interrupt["speaker"]], [])
            at = int(float(line.interrupt.get("at", 1.0)) * SAMPLE_RATE)
            mixed = np.zeros(max(len(line.audio), at + len(other)), np.int32)
            mixed[:len(line.audio)] += line.audio
            mixed[at:at + len(other)] += other
            line.audio = np.clip(mixed, -32768, 32767).astype(np.int16)


class SimulatedRoom:
    """An audio source with two partners who answer when the facilitator is quiet."""

    def __init__(self, lines: list[Line], frame_ms: int = 30, realtime: bool = False,
                 reaction_s: float = 0.6, noise_level: float = 0.0, give_up_s: float = 60.0,
                 monitor: Callable[[np.ndarray], None] | None = None, seed: int = 0,
                 echo: bool = False, reaction_spread_s: float = 0.0):
        self.name = "demo"
        self.sample_rate = SAMPLE_RATE
        self.frame_samples = SAMPLE_RATE * frame_ms // 1000
        self.lines = lines
        self.realtime = realtime
        self.reaction_s = reaction_s
        self.reaction_spread_s = reaction_spread_s   # each reaction drawn from +- this around reaction_s
        self.noise_level = noise_level
        self.give_up_s = give_up_s
        self.monitor = monitor
        self.rng = np.random.default_rng(seed)
        self.next_start: float | None = None
        self.spoken: list[tuple[str, float, float]] = []   # (speaker, start, end) on the input timeline
        self._closed = False
        self._waiting_since = 0.0
        self._step: str | None = None
        self.echo = echo
        self._echoes: list[tuple[float, np.ndarray]] = []

    def listen(self, event: Event) -> None:
        """Subscribed to the bus: the facilitator is listening again, so the next line may come.

        With `echo`, the facilitator's own prompts are heard by the room's microphone too,
        as from a loudspeaker (the pipeline must not transcribe them).
        """
        event = as_dict(event)
        kind = event.get("type")
        if kind == "_listening":
            self.next_start = max(event.get("after", 0.0), event.get("t", 0.0)) + self._reaction()
            self._step = event.get("step")
        elif kind == "_spoken" and self.echo and event.get("audio") is not None:
            audio = resample(event["audio"], event["rate"], SAMPLE_RATE)
            self._echoes.append((event["t"], (np.asarray(audio) * 0.5 * 32767).astype(np.int16)))
        elif kind == "end":
            self._closed = True

    def attach(self, bus: EventBus) -> None:
        """Listen to the loop: its signals (listening again, prompts played) and the end."""
        bus.subscribe(self.listen)
        bus.subscribe_signals(self.listen)

    def _reaction(self) -> float:
        if self.reaction_spread_s <= 0:
            return self.reaction_s
        spread = self.rng.uniform(-self.reaction_spread_s, self.reaction_spread_s)
        return max(0.0, self.reaction_s + spread)

    def _next_line(self, index: int) -> int:
        """The next line for the step the dialogue is in (lines for other steps are passed over)."""
        for ahead in range(index, min(index + 3, len(self.lines))):
            if self.lines[ahead].step in (None, self._step):
                return ahead
        return index

    def _echo(self, t: float, n: int) -> np.ndarray | None:
        mixed = None
        for start, audio in self._echoes:
            lo = int(round((t - start) * SAMPLE_RATE))
            if lo + n <= 0 or lo >= len(audio):
                continue
            piece = np.zeros(n, np.int32)
            src = audio[max(lo, 0):lo + n]
            piece[max(-lo, 0):max(-lo, 0) + len(src)] = src
            mixed = piece if mixed is None else mixed + piece
        self._echoes = [(s, a) for s, a in self._echoes if (t - s) * SAMPLE_RATE < len(a)]
        return mixed

    def frames(self) -> Iterator[Frame]:
        n = self.frame_samples
        position = 0          # samples since start
        index = 0             # next line
        playing: np.ndarray | None = None
        offset = 0
        wall_start = time.monotonic()
        while not self._closed:
            t = position / SAMPLE_RATE
            if playing is None and index < len(self.lines) and self.next_start is not None \
                    and t >= self.next_start:
                index = self._next_line(index)
                line = self.lines[index]
                playing, offset = line.audio, 0
                self.spoken.append((line.speaker, t, t + len(playing) / SAMPLE_RATE))
                if self.monitor is not None:
                    self.monitor(playing)
                self.next_start = None
                index += 1
            if playing is not None:
                block = playing[offset:offset + n]
                offset += n
                if offset >= len(playing):
                    playing = None
                if len(block) < n:
                    block = np.concatenate([block, np.zeros(n - len(block), np.int16)])
                self._waiting_since = t
            else:
                block = np.zeros(n, np.int16)
                if self.lines and index >= len(self.lines) and t - self._waiting_since > 8.0:
                    return
                if t - self._waiting_since > self.give_up_s:
                    return
            echo = self._echo(t, n) if self._echoes else None
            if echo is not None:
                block = np.clip(block.astype(np.int32) + echo, -32768, 32767).astype(np.int16)
            if self.noise_level > 0:
                noise = self.rng.normal(0, self.noise_level * 32767, n)
                block = np.clip(block.astype(np.float64) + noise, -32768, 32767).astype(np.int16)
            if self.realtime:
                delay = wall_start + t + n / SAMPLE_RATE - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            position += n
            yield Frame(block, t, None, time.monotonic())

    def close(self) -> None:
        self._closed = True
