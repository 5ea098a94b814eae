"""The simulated room: two partners who answer the facilitator, fed through the real pipeline.

`SimulatedRoom` is an audio source. It plays each partner's line (rendered with a voice, or
a recording) as a microphone would hear it, and waits, like a person, until the facilitator
has finished speaking (plus a reaction delay) before the next line. It is what `facilitator
simulate` and the built-in demo listen to; the lines come from a session file
(`facilitator.sim.session_file`; the demo's is `prompts/demo_session.toml`). With
`RoomAcoustics` the room reverberates and has noise; with `echo` its microphone hears the
facilitator's prompts too; `on_played` is told of each line as it starts (the played file).
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
from facilitator.sim.acoustics import RoomAcoustics
from facilitator.sim.played import PlayedLine
from facilitator.sim.voices import PARTNER_VOICES, phrases_with_pauses

END_OF_LINES_S = 8.0       # after the last line, this long a silence ends the input
MAX_REPLAYS = 2            # a step asked again with no line of its own ahead: its last line, this often


@dataclass
class Line:
    speaker: str              # "A" or "B"
    text: str                 # may hold "|" where the speaker pauses ("" for a recording)
    step: str | None = None   # the dialogue step this line answers
    audio: np.ndarray | None = None   # what the room plays (with the interrupt), set by render_lines
    interrupt: dict | None = None     # {"speaker", "text" or "recording", "at"}: talked over from `at` s
    recording: np.ndarray | None = None   # the line as a recording (int16, 16 kHz) instead of text
    index: int | None = None          # its position in the session file's [[lines]]
    interrupt_span: tuple[float, float] | None = None   # (start, end) of the interrupt in `audio`


def load_demo_lines(name: str = "demo_session") -> tuple[dict[str, str], list[Line]]:
    """The demo's names and lines, unrendered (for tests and benchmarks; `facilitator demo`
    reads the same file as any session file)."""
    data = prompt_files.load_toml(name)
    names = data.get("names", {"A": "Alex", "B": "Sam"})
    lines = [Line(item["speaker"], item["text"], item.get("step"), interrupt=item.get("interrupt"),
                  index=i) for i, item in enumerate(data.get("lines", []))]
    return names, lines


def resume_lines(lines: list[Line], events: list[dict], voices_kept: bool) -> list[Line]:
    """The lines still to say when an interrupted simulated session resumes: from the first
    line for the step (and round) it stopped in; the enrollment lines first when the voices
    were not kept, since they are asked for again."""
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
    """Set each line's `audio`: its recording or its text in the speaker's voice ("|" is a
    pause of `pause_s`), with the interrupt (text or recording) mixed in from `at` seconds.
    Raises SpeechError when a voice cannot render."""
    voices = {**PARTNER_VOICES, **(voices or {})}
    for line in lines:
        own = line.recording if line.recording is not None else _spoken(line.text, voices[line.speaker], pause_s)
        line.audio, line.interrupt_span = own, None
        if line.interrupt:
            other = line.interrupt.get("recording")
            if other is None:
                other = _spoken(line.interrupt["text"], voices[line.interrupt["speaker"]], pause_s)
            at = int(float(line.interrupt.get("at", 1.0)) * SAMPLE_RATE)
            mixed = np.zeros(max(len(own), at + len(other)), np.int32)
            mixed[:len(own)] += own
            mixed[at:at + len(other)] += other
            line.audio = np.clip(mixed, -32768, 32767).astype(np.int16)
            line.interrupt_span = (at / SAMPLE_RATE, (at + len(other)) / SAMPLE_RATE)


def _spoken(text: str, voice: str, pause_s: float) -> np.ndarray:
    phrases = [p.strip() for p in text.split("|") if p.strip()]
    return phrases_with_pauses(phrases, voice, [pause_s])


class SimulatedRoom:
    """An audio source with two partners who answer when the facilitator is quiet."""

    def __init__(self, lines: list[Line], frame_ms: int = 30, realtime: bool = False,
                 reaction_s: float = 0.6, noise_level: float = 0.0, give_up_s: float = 60.0,
                 monitor: Callable[[np.ndarray], None] | None = None, seed: int = 0,
                 echo: bool = False, reaction_spread_s: float = 0.0,
                 acoustics: RoomAcoustics | None = None,
                 on_played: Callable[[PlayedLine], None] | None = None,
                 time_offset: float = 0.0, name: str = "demo"):
        """`noise_level`: white noise at that fraction of full scale (tests); `acoustics`: the
        room's reverb and noise; `on_played`: told of each line as it starts, with times on
        the record's timeline (`time_offset` added: a resumed session's)."""
        self.name = name
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
        self.acoustics = acoustics if acoustics is not None and acoustics.active else None
        self.on_played = on_played
        self.time_offset = time_offset
        self.next_start: float | None = None
        self.spoken: list[tuple[str, float, float]] = []   # (speaker, start, end) on the input timeline
        self._closed = False
        self._waiting_since = 0.0
        self._step: str | None = None
        self._last_for_step: dict[str, int] = {}   # step -> the line last played for it
        self._replays: dict[str, int] = {}          # step -> its last line said again, since the last new line
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
            audio = (np.asarray(audio) * 0.5 * 32767).astype(np.int16)
            if self.acoustics is not None:
                audio = self.acoustics.loudspeaker(audio)
            self._echoes.append((event["t"], audio))
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

    def _next_line(self, index: int) -> tuple[int, int]:
        """(the line to play, the next line after it): the next line for the step the
        dialogue is in, lines for other steps passed over. When none of the next lines is for
        it and the step is asked again (a retry), the partner says their last line for it
        again, at most MAX_REPLAYS times before a new line is played; failing that, the next line."""
        for ahead in range(index, min(index + 3, len(self.lines))):
            if self.lines[ahead].step in (None, self._step):
                self._replays.clear()
                return ahead, ahead + 1
        replays = self._replays.get(self._step, 0)
        if self._step in self._last_for_step and replays < MAX_REPLAYS:
            self._replays[self._step] = replays + 1
            return self._last_for_step[self._step], index
        self._replays.clear()
        return index, index + 1

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

    def _start(self, index: int, t: float) -> np.ndarray:
        """What the microphone hears of line `index`, starting at `t`; noted as played."""
        line = self.lines[index]
        if line.step is not None:
            self._last_for_step[line.step] = index
        dry = line.audio
        end = t + len(dry) / SAMPLE_RATE
        self.spoken.append((line.speaker, t, end))
        if self.on_played is not None:
            at = self.time_offset + t
            span = line.interrupt_span
            interrupt = None if span is None or not line.interrupt else {
                "speaker": line.interrupt["speaker"], "start": round(at + span[0], 3),
                "end": round(at + span[1], 3)}
            number = line.index if line.index is not None else index
            self.on_played(PlayedLine(number, line.speaker, line.step, round(at, 3),
                                      round(self.time_offset + end, 3), interrupt))
        if self.monitor is not None:
            self.monitor(dry)
        return self.acoustics.partner(dry) if self.acoustics is not None else dry

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
                chosen, index = self._next_line(index)
                playing, offset = self._start(chosen, t), 0
                self.next_start = None
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
                if self.lines and index >= len(self.lines) and t - self._waiting_since > END_OF_LINES_S:
                    return
                if t - self._waiting_since > self.give_up_s:
                    return
            block = self._heard(block, t, position)
            if self.realtime:
                delay = wall_start + t + n / SAMPLE_RATE - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            position += n
            yield Frame(block, t, None, time.monotonic())

    def _heard(self, block: np.ndarray, t: float, position: int) -> np.ndarray:
        """The block with the facilitator's echo and the room's noise added."""
        n = len(block)
        echo = self._echo(t, n) if self._echoes else None
        noise = self.acoustics.noise(position, n) if self.acoustics is not None else None
        if echo is None and noise is None and self.noise_level <= 0:
            return block
        mixed = block.astype(np.float64)
        if echo is not None:
            mixed += echo
        if noise is not None:
            mixed += noise
        if self.noise_level > 0:
            mixed += self.rng.normal(0, self.noise_level * 32767, n)
        return np.clip(np.round(mixed), -32768, 32767).astype(np.int16)

    def close(self) -> None:
        self._closed = True
