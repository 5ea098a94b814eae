"""One benchmark session through the real pipeline, in the process that measures it (the
child process of latency.py; see its docstring for what is measured).

`run(manifest, ...)` reads the partners' lines from the WAV files latency_sessions.py
rendered, builds the session as the program does (`build_session`: VAD, end of turn,
faster-whisper, judge, dialogue, prompt rendering) with a SimulatedRoom as the microphone
and a SilentOutput voice (prompts rendered and timed as if played, not heard), display off,
runs it and returns its numbers as a JSON-able dict.
"""

from __future__ import annotations

import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from facilitator.events import EventBus, as_dict
from facilitator.sim.room import SimulatedRoom
from facilitator.speech_out import CheckedRenderer, SilentOutput, Voice

import latency_sessions

ROOT = Path(__file__).resolve().parents[1]


class TimedRoom(SimulatedRoom):
    """The room, noting when its clock started: in real time, input time t is heard at
    wall_start + t, whatever the pipeline is doing (frames wait for it, not it for them)."""

    wall_start: float | None = None

    def frames(self):
        self.wall_start = time.monotonic()
        yield from super().frames()


class TimedTranscriber:
    """Wraps Transcriber.transcribe: the wall time and audio length of every call."""

    def __init__(self, transcriber):
        self.calls: list[tuple[float, float, float]] = []     # (start, end, audio seconds)
        original = transcriber.transcribe

        def transcribe(audio, context=""):
            start = time.monotonic()
            result = original(audio, context=context)
            self.calls.append((start, time.monotonic(), len(audio) / 16000))
            return result

        transcriber.transcribe = transcribe


@dataclass
class Collector:
    events: list[tuple[float, dict]] = field(default_factory=list)

    def __call__(self, event) -> None:
        slim = {k: v for k, v in as_dict(event).items() if k != "audio"}
        self.events.append((time.monotonic(), slim))


@dataclass
class TurnTiming:
    number: int
    reason: str
    step: str
    text: str
    speech_start: float
    speech_end: float
    t_input: float              # input time when the turn closed
    last_voice: float
    transcript: float
    decided: float | None
    prompt_started: float | None
    prompt_key: str | None
    transcribe_s: float         # transcription wall time inside the window
    first_call: float | None    # when the first transcribe call in the window began
    audio_s: float              # audio seconds transcribed inside the window
    voice_end: float | None = None   # real time: when the room played the end of the speech
    who_wait: float | None = None    # time the turn's end waited for who spoke (s)

    def latency(self, until: float | None, fast: bool) -> float | None:
        """From the end of speech as played (real time) to `until`; with the fast clock,
        the wall time from the last voiced frame plus the hangover on the input timeline."""
        if until is None:
            return None
        if self.voice_end is not None:
            return until - self.voice_end
        wall = until - self.last_voice
        if fast:
            wall += max(0.0, self.t_input - self.speech_end)
        return wall

    def parts(self, fast: bool) -> dict | None:
        """Where this turn's prompt latency went (None without a prompt)."""
        if self.first_call is None or self.decided is None or self.prompt_started is None:
            return None
        wait = self.first_call - (self.voice_end if self.voice_end is not None else self.last_voice)
        if fast:
            wait += max(0.0, self.t_input - self.speech_end)
        to_text = self.latency(self.transcript, fast)
        return {"wait for pause": wait, "transcribe": self.transcribe_s,
                "wait between reads": to_text - wait - self.transcribe_s,
                "judge+dialogue": self.decided - self.transcript,
                "  of which: wait for who spoke": self.who_wait,
                "render+start prompt": self.prompt_started - self.decided,
                "audio transcribed (s)": self.audio_s}

    def row(self, fast: bool) -> dict:
        """The turn as the report reads it."""
        own = None if self.prompt_started is None else self.prompt_started - self.last_voice
        return {"number": self.number, "reason": self.reason, "step": self.step,
                "text": self.text, "len_s": self.speech_end - self.speech_start,
                "to_text": self.latency(self.transcript, fast),
                "to_prompt": self.latency(self.prompt_started, fast), "own_prompt": own,
                "transcribe_s": self.transcribe_s, "audio_s": self.audio_s,
                "prompt_key": self.prompt_key, "parts": self.parts(fast)}


def peak_rss_mb() -> float:
    """This process's high-water mark of resident memory (VmHWM; ru_maxrss if unreadable)."""
    try:
        for row in Path("/proc/self/status").read_text().splitlines():
            if row.startswith("VmHWM:"):
                return int(row.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def code_state() -> str:
    """The last commit that changed the product (facilitator/, prompts/, config.toml), and
    its files not committed yet."""
    import subprocess

    def git(*args: str) -> str:
        try:
            done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True,
                                  timeout=10)
        except (OSError, subprocess.SubprocessError):
            return ""
        return done.stdout.strip() if done.returncode == 0 else ""

    product = ("facilitator", "prompts", "config.toml")
    commit = git("log", "-1", "--format=%h", "--", *product) or "unknown commit"
    changed = [row[3:] for row in git("status", "--porcelain", "--", *product).splitlines()]
    return commit + (f" + uncommitted: {', '.join(changed)}" if changed else "")


def run(manifest: Path, config, fast: bool, record_dir: Path, events_out: Path | None = None) -> dict:
    """Run the session of `manifest` with `config`; its numbers (see `TurnTiming.row`)."""
    from facilitator.app import RunOptions, build_session
    from facilitator.transcribe import Transcriber

    code = code_state()          # as the session starts: the product may change while it runs
    t_read = time.monotonic()
    names, lines, data = latency_sessions.load(manifest)
    name = data["session"]
    read_s = time.monotonic() - t_read
    bus = EventBus()
    collector = Collector()
    bus.subscribe(collector)
    bus.subscribe_signals(collector)
    extents = [latency_sessions.voiced_extent(line.audio) for line in lines]
    played: list[int] = []                # the index of each line the room played, in order
    room = TimedRoom(lines, config.turns.frame_ms, realtime=not fast,
                     on_played=lambda line: played.append(line.index))

    t_build = time.monotonic()
    # The voice first, as in the program (its engine loads while the speech model does).
    voice = Voice(CheckedRenderer(config.speech) if config.speech.enabled else None,
                  SilentOutput(realtime=not fast))
    transcriber = Transcriber(config.transcription, root=ROOT)
    t_loaded = time.monotonic()
    transcriber.warm_up()
    t_warm = time.monotonic()
    timed = TimedTranscriber(transcriber)
    options = RunOptions(realtime=not fast, speak_aloud=False, display=False, names=names,
                         record_path=record_dir / f"{name}.jsonl", input_name="benchmark")
    session, writer = build_session(config, room, options, bus=bus, transcriber=transcriber,
                                    voice=voice)
    t_built = time.monotonic()
    room.attach(bus)
    print(f"[{name} / {data['partners']} partners / {config.speech.engine}] built in "
          f"{t_built - t_build:.2f} s; running ({'fast clock' if fast else 'real time'}) ...",
          file=sys.stderr, flush=True)
    try:
        reason = session.run()
    finally:
        session.speaking.voice.close()
        writer.close()
    wall = time.monotonic() - t_built

    turns = turn_timings(collector.events, timed.calls, None if fast else room.wall_start)
    events = collector.events
    first_prompt = next((e["started"] for _, e in events if e["type"] == "_spoken"), None)
    ready = next((at for at, e in events if e["type"] == "_ready"), None)
    spoken = [e for _, e in events if e["type"] == "_spoken"]
    mid = mid_turn_prompts(spoken, room.spoken, [extents[i] for i in played],
                           [lines[i] for i in played])
    if events_out is not None:
        import json

        with open(events_out, "w") as handle:
            for at, event in events:
                handle.write(json.dumps({"at": at, **event}, default=str) + "\n")
    return {
        "session": name, "partners": data["partners"], "voices": data["voices"],
        "engine": config.speech.engine, "fast": fast, "code": code,
        "turns": [t.row(fast) for t in turns],
        "read_lines_s": read_s, "build_s": t_built - t_build, "load_s": t_loaded - t_build,
        "warm_s": t_warm - t_loaded,
        "first_prompt_s": None if first_prompt is None else first_prompt - t_build,
        "ready_event_s": None if ready is None else ready - t_build,
        "build_at": t_build, "mid_turn": mid, "lines": len(room.spoken),
        "turn_count": session.turn_count,
        "dropped": sum(1 for _, e in events if e["type"] == "_dropped"),
        "end": reason, "wall_s": wall, "prompts": len(spoken),
        "input_s": max((float(e.get("t") or 0.0) for _, e in events), default=0.0),
        "pauses": [p for e in data["lines"] for p in e["pauses"]],
        "gaps": [g for e in data["lines"] if e["pauses"] for g in e["gaps"]],
        "rss_mb": peak_rss_mb(),
    }


def mid_turn_prompts(spoken: list[dict], played: list[tuple[str, float, float]],
                     extents: list[tuple[float, float]], lines: list) -> list[dict]:
    """Prompts whose interval on the input timeline overlaps the voiced part of a line the
    room played (from its first to its last loud 10 ms, pauses inside included)."""
    mid = []
    for prompt in spoken:
        p0, p1 = prompt["t"], prompt["t"] + prompt["duration"]
        for (speaker, l0, _), (v0, v1), line in zip(played, extents, lines):
            if p0 < l0 + v1 and p1 > l0 + v0:
                mid.append({"prompt": prompt["text"][:60], "prompt_at": round(p0, 2),
                            "speaker": speaker, "step": line.step, "line": line.text[:60],
                            "voiced": [round(l0 + v0, 2), round(l0 + v1, 2)],
                            "said_before_s": round(p0 - l0 - v0, 2),
                            "left_s": round(l0 + v1 - p0, 2)})
    return mid


def turn_timings(events: list[tuple[float, dict]], calls,
                 wall_start: float | None) -> list[TurnTiming]:
    turns: list[TurnTiming] = []
    last_turn: dict | None = None
    current: TurnTiming | None = None
    for _, event in events:
        kind = event["type"]
        if kind == "turn":
            last_turn = event
        elif kind == "_timing" and last_turn is not None:
            inside = [c for c in calls if event["last_voice"] <= c[0] <= event["transcript"]]
            current = TurnTiming(
                event["turn"], event["reason"], last_turn.get("step") or "", last_turn["text"],
                last_turn["start"], last_turn["end"], last_turn["t"], event["last_voice"],
                event["transcript"], event.get("decided"), None, None,
                sum(c[1] - c[0] for c in inside), inside[0][0] if inside else None,
                sum(c[2] for c in inside),
                None if wall_start is None else wall_start + last_turn["end"],
                event.get("who_wait"),
            )
            turns.append(current)
        elif kind == "prompt" and current is not None and current.prompt_key is None:
            current.prompt_key = event.get("key")
        elif kind == "_spoken" and current is not None and current.prompt_started is None:
            current.prompt_started = event["started"]
        elif kind == "_listening":
            current = None
    return turns

