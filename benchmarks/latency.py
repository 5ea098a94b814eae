"""Benchmark the live loop: response latency, start-up time, memory, prompts mid-turn.

Usage:
    .venv/bin/python benchmarks/latency.py [--quick] [--fast-clock] [--only demo|paused]
                                           [--engine piper|pyttsx3|espeak-ng|both]
                                           [--no-mic] [--config FILE] [--json OUT]

(about 6 minutes in real time per engine; --quick about 2.5; --quick --fast-clock about 15 s)

--engine: the facilitator's speech engine ([speech] engine); "both" (the default) runs the
sessions with Piper and then with pyttsx3 and prints one report per engine, since the
prompt latency includes rendering the prompt.

Two scripted sessions run through the real pipeline (`build_session`: VAD, end of turn,
faster-whisper, judge, dialogue, prompt rendering), with the demo's SimulatedRoom as the
microphone and a SilentOutput voice (prompts are rendered and timed as if played, but not
heard), display off:

1. "demo":   the lines of prompts/demo_session.toml, as `facilitator demo` plays them.
2. "paused": the same session, but the turns of the send / mirror / summary / validate /
             empathize steps hold pauses of 0.8, 1.0, 1.2 and 1.5 s inside the turn.

Per turn (from the internal "_timing" and "_spoken" events):
    last voice -> transcript   monotonic arrival of the last voiced frame to the final transcript
    last voice -> prompt       ... to the first sample of the prompt that answers the turn
                               (only turns followed by a prompt)
split into cue-ended turns and pause-ended turns ("complete" / "silence"), p50 and p95.
Where the time goes: the wait for the pause (VAD hangover + frames queued behind work),
transcription (every transcribe call inside the window), judge + dialogue, prompt render.

Start-up: process start and build start -> transcriber loaded and warmed up -> session
built -> the first prompt's first sample ("ready": the person hears the welcome) -> the
"_ready" event (published after the welcome prompt has been played).
Peak RSS: resource.getrusage(RUSAGE_SELF).ru_maxrss.
Microphone path (unless --no-mic, and when PulseAudio is installed): `facilitator run
--device pulse` is spawned on a private PulseAudio server (null sinks, nothing touches the
home directory) and timed from spawn to its welcome prompt; its peak RSS is measured too.
Mid-turn prompts: a prompt whose interval on the input timeline overlaps the audio of a
partner's line in the room's `spoken` list (from its first to its last loud 10 ms: the
silence espeak-ng pads a line with is not speech).

--fast-clock feeds the room as fast as the CPU allows; latencies are then *estimated* as
(input-time hangover: turn event time - speech end) + (wall time from the last voiced
frame to the transcript / prompt), which is what real time would show on an idle machine.
"""

from __future__ import annotations

import time

T_TOP = time.monotonic()     # before the heavy imports

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _process_age_s() -> float | None:
    """Seconds since this process started (Linux /proc), at the time of the call."""
    try:
        ticks = os.sysconf("SC_CLK_TCK")
        with open("/proc/self/stat") as handle:
            start_ticks = int(handle.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as handle:
            uptime = float(handle.read().split()[0])
        return uptime - start_ticks / ticks
    except (OSError, ValueError, IndexError):
        return None


AGE_AT_TOP = _process_age_s()

import numpy as np  # noqa: E402

from facilitator import config as config_module  # noqa: E402
from facilitator.sim.room import Line, SimulatedRoom, load_demo_lines, render_lines  # noqa: E402
from facilitator.events import EventBus, as_dict  # noqa: E402
from facilitator.speech_out import CheckedRenderer, SilentOutput, Voice  # noqa: E402
from facilitator.sim.voices import PARTNER_VOICES, phrases_with_pauses  # noqa: E402

T_IMPORTED = time.monotonic()

PAUSES = [0.8, 1.0, 1.2, 1.5]
# The paused variants: the same words as the demo's lines, with pauses where people pause.
PAUSED_STEPS = ("send", "mirror", "summary", "validate", "empathize")
CLAUSE = re.compile(r"(?<=[,.])\s+|\s+(?=(?:when|because|and|that you) )")
TARGETS = {"cue_p50": 0.400, "cue_p95": 0.700, "mid_turn": 0, "ready": 3.0, "rss_mb": 500.0}


# -- instruments ---------------------------------------------------------------------------
class TimedRoom(SimulatedRoom):
    """The demo room, noting when its clock started: in real time, input time t is heard at
    wall_start + t, whatever the pipeline is doing (frames wait for it, not it for them)."""

    wall_start: float | None = None

    def frames(self):
        self.wall_start = time.monotonic()
        yield from super().frames()


class TimedTranscriber:
    """Wraps Transcriber.transcribe: the wall time and audio length of every call."""

    def __init__(self, transcriber):
        self.inner = transcriber
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

    def own(self, until: float | None) -> float | None:
        """The pipeline's own measure: from the arrival of the last voiced frame."""
        return None if until is None else until - self.last_voice

    def latency(self, until: float | None, fast: bool) -> float | None:
        if until is None:
            return None
        if self.voice_end is not None:
            return until - self.voice_end
        wall = until - self.last_voice
        if fast:      # the hangover passed in no wall time: add it from the input timeline
            wall += max(0.0, self.t_input - self.speech_end)
        return wall


@dataclass
class SessionResult:
    name: str
    turns: list[TurnTiming]
    build_s: float
    load_s: float
    warm_s: float
    first_prompt_s: float | None     # build start -> first sample of the welcome
    ready_event_s: float | None      # build start -> "_ready"
    mid_turn: list[dict]
    events: list
    lines: int
    turn_count: int
    dropped: int
    end_reason: str
    wall_s: float
    rss_mb: float


# -- a session -------------------------------------------------------------------------------
def run_session(name: str, lines: list[Line], names: dict[str, str], config, fast: bool,
                record_dir: Path, quiet: bool = False) -> SessionResult:
    from facilitator.app import RunOptions, build_session
    from facilitator.transcribe import Transcriber

    bus = EventBus()
    collector = Collector()
    bus.subscribe(collector)
    bus.subscribe_signals(collector)
    extents: list[tuple[float, float]] = []      # voiced part of each line played, in seconds
    room = TimedRoom(lines, config.turns.frame_ms, realtime=not fast,
                         monitor=lambda audio: extents.append(voiced_extent(audio)))

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
    if not quiet:
        print(f"[{name}] built in {t_built - t_build:.2f} s; running "
              f"({'fast clock' if fast else 'real time'}) ...", file=sys.stderr, flush=True)
    try:
        reason = session.run()
    finally:
        session.speaking.voice.close()
        writer.close()
    wall = time.monotonic() - t_built

    turns = _turn_timings(collector.events, timed.calls, None if fast else room.wall_start)
    first_prompt = next((e["started"] for _, e in collector.events if e["type"] == "_spoken"), None)
    ready = next((at for at, e in collector.events if e["type"] == "_ready"), None)
    spoken = [e for _, e in collector.events if e["type"] == "_spoken"]
    mid = []
    for prompt in spoken:
        p0, p1 = prompt["t"], prompt["t"] + prompt["duration"]
        for (speaker, l0, _), (v0, v1) in zip(room.spoken, extents):
            if p0 < l0 + v1 and p1 > l0 + v0:
                mid.append({"prompt": prompt["text"][:60], "prompt_at": round(p0, 2),
                            "speaker": speaker, "voiced": [round(l0 + v0, 2), round(l0 + v1, 2)],
                            "said_before_s": round(p0 - l0 - v0, 2),
                            "left_s": round(l0 + v1 - p0, 2)})
    dropped = sum(1 for _, e in collector.events if e["type"] == "_dropped")
    return SessionResult(
        name, turns, t_built - t_build, t_loaded - t_build, t_warm - t_loaded,
        None if first_prompt is None else first_prompt - t_build,
        None if ready is None else ready - t_build, mid, collector.events, len(room.spoken),
        session.turn_count, dropped, reason, wall,
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )


def voiced_extent(audio: np.ndarray, threshold: int = 500) -> tuple[float, float]:
    """Seconds from the start of a line's audio to its first and last loud 10 ms block
    (espeak-ng pads its output with silence, which is not the partner speaking)."""
    block = 160
    count = len(audio) // block
    loud = np.abs(audio[: count * block].reshape(count, block).astype(np.int32)).max(axis=1) > threshold
    where = np.flatnonzero(loud)
    if not where.size:
        return 0.0, 0.0
    return float(where[0] * block / 16000), float((where[-1] + 1) * block / 16000)


def _turn_timings(events: list[tuple[float, dict]], calls,
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


# -- the microphone path: `facilitator run --device pulse` under a private PulseAudio server ----
def mic_startup(timeout_s: float = 30.0) -> dict | None:
    """Spawn the real program on a private PulseAudio server; time it to its first prompt.

    The microphone is opened (and its first audio awaited) before the session is built, so
    "ready" here is spawn -> the welcome prompt is recorded (it is written just before it
    is played). Returns None when PulseAudio is not installed.
    """
    import shutil
    import signal
    import subprocess

    if not all(shutil.which(p) for p in ("pulseaudio", "pactl")):
        return None
    base = Path(tempfile.mkdtemp(prefix="lat-pulse-"))
    for sub in ("rt", "config", "home", "data"):
        (base / sub).mkdir()
    socket = base / "rt" / "native"
    env = dict(os.environ, HOME=str(base / "home"), XDG_RUNTIME_DIR=str(base / "rt"),
               XDG_CONFIG_HOME=str(base / "config"), XDG_DATA_HOME=str(base / "data"),
               PULSE_SERVER=f"unix:{socket}", FACILITATOR_DATA_DIR=str(base / "data"))
    (base / "default.pa").write_text(
        f"load-module module-native-protocol-unix socket={socket} auth-anonymous=1\n"
        "load-module module-null-sink sink_name=facilitator rate=16000 channels=1\n"
        "load-module module-null-sink sink_name=partners rate=16000 channels=1\n"
        "set-default-sink facilitator\nset-default-source partners.monitor\n")
    server = subprocess.Popen(
        ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--disable-shm=yes",
         "--use-pid-file=no", "-F", str(base / "default.pa")],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    program = None
    try:
        deadline = time.monotonic() + 10
        while subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode != 0:
            if time.monotonic() > deadline or server.poll() is not None:
                return None
            time.sleep(0.1)
        record = base / "session.jsonl"
        spawned = time.monotonic()
        program = subprocess.Popen(
            [sys.executable, "-m", "facilitator", "run", "--device", "pulse", "--record",
             str(record)], env=env, cwd=base, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            # Ctrl-C as in a terminal even when this benchmark runs in the background
            # (`cmd &` leaves SIGINT ignored, and the child would inherit that).
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        session_at = prompt_at = None
        deadline = spawned + timeout_s
        while time.monotonic() < deadline and program.poll() is None and prompt_at is None:
            text = record.read_text() if record.exists() else ""
            if session_at is None and '"type": "session"' in text:
                session_at = time.monotonic()
            if '"type": "prompt"' in text:
                prompt_at = time.monotonic()
            time.sleep(0.02)
        time.sleep(1.0)
        peak_mb = None
        try:      # the program's own high-water mark (RUSAGE_CHILDREN would count the fork)
            for row in Path(f"/proc/{program.pid}/status").read_text().splitlines():
                if row.startswith("VmHWM:"):
                    peak_mb = int(row.split()[1]) / 1024
        except OSError:
            pass
        program.send_signal(signal.SIGINT)          # Ctrl-C while the welcome is played
        stopped = time.monotonic()
        try:
            program.wait(timeout=20)
            sigint = f"exited with {program.returncode} after {time.monotonic() - stopped:.1f} s"
        except subprocess.TimeoutExpired:
            sigint = "did NOT exit within 20 s (killed)"
            program.kill()
            program.wait()
        ended = '"type": "end"' in (record.read_text() if record.exists() else "")
        sigint += ", record ends with an end event" if ended else ", NO end event in the record"
        return {"sigint": sigint,"record_opened_s": None if session_at is None else session_at - spawned,
                "first_prompt_s": None if prompt_at is None else prompt_at - spawned,
                "child_peak_rss_mb": peak_mb if peak_mb is not None else float("nan"),
                "exit_code": program.returncode}
    finally:
        if program is not None and program.poll() is None:
            program.kill()
            program.wait()
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(base, ignore_errors=True)


# -- lines -----------------------------------------------------------------------------------
def demo_lines(quick: bool) -> tuple[dict[str, str], list[Line]]:
    names, lines = load_demo_lines()
    if quick:
        lines = lines[:7]
    render_lines(lines)
    return names, lines


def paused_lines(quick: bool) -> tuple[dict[str, str], list[Line]]:
    """The demo's lines; the longer turns spoken with pauses of 0.8-1.5 s between clauses."""
    names, lines = load_demo_lines()
    if quick:
        lines = lines[:7]
    render_lines(lines)
    count = 0
    for line in lines:
        if line.step not in PAUSED_STEPS:
            continue
        phrases = [p.strip() for p in CLAUSE.split(line.text.replace("|", ",")) if p.strip()]
        phrases = [p for p in phrases if p != ","]
        if len(phrases) < 2:
            continue
        pauses = [PAUSES[(count + i) % len(PAUSES)] for i in range(len(phrases) - 1)]
        count += len(phrases) - 1
        line.text = " | ".join(phrases)
        line.audio = phrases_with_pauses(phrases, PARTNER_VOICES[line.speaker], pauses)
        EFFECTIVE_GAPS.extend(silent_gaps(line.audio))
    return names, lines


EFFECTIVE_GAPS: list[float] = []


def silent_gaps(audio: np.ndarray, threshold: int = 500, least_s: float = 0.5) -> list[float]:
    """Silences inside a line (espeak-ng pads each phrase with ~0.35 s, which adds to a pause)."""
    block = 160
    count = len(audio) // block
    loud = np.flatnonzero(np.abs(audio[: count * block].reshape(count, block).astype(np.int32)).max(axis=1) > threshold)
    gaps = np.diff(loud) * block / 16000 - block / 16000
    return [round(float(g), 2) for g in gaps if g >= least_s]


# -- report ----------------------------------------------------------------------------------
def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:6.0f}"


def ok(passed: bool | None) -> str:
    return "" if passed is None else ("ok" if passed else "MISS")


def summarize(results: list[SessionResult], fast: bool) -> dict:
    turns = [t for r in results for t in r.turns]
    groups = {
        "cue-ended": [t for t in turns if t.reason == "cue"],
        "pause-ended": [t for t in turns if t.reason in ("complete", "silence")],
        "  complete": [t for t in turns if t.reason == "complete"],
        "  silence": [t for t in turns if t.reason == "silence"],
        "all": turns,
    }
    table = {}
    for label, group in groups.items():
        transcript = [t.latency(t.transcript, fast) for t in group]
        prompt = [t.latency(t.prompt_started, fast) for t in group if t.prompt_started is not None]
        own = [t.own(t.prompt_started) for t in group if t.prompt_started is not None]
        table[label] = {
            "n": len(group), "n_prompted": len(prompt),
            "transcript_p50": pct(transcript, 0.5), "transcript_p95": pct(transcript, 0.95),
            "prompt_p50": pct(prompt, 0.5), "prompt_p95": pct(prompt, 0.95),
            "own_prompt_p50": pct(own, 0.5), "own_prompt_p95": pct(own, 0.95),
        }
    return table


def breakdown(turns: list[TurnTiming], fast: bool) -> dict:
    """Median of each part of the cue-ended prompt latency."""
    parts: dict[str, list[float]] = {"wait for pause": [], "transcribe": [], "judge+dialogue": [],
                                     "  of which: wait for who spoke": [],
                                     "render+start prompt": [], "audio transcribed (s)": []}
    for t in turns:
        if t.first_call is None or t.decided is None or t.prompt_started is None:
            continue
        wait = t.first_call - (t.voice_end if t.voice_end is not None else t.last_voice)
        if fast:
            wait += max(0.0, t.t_input - t.speech_end)
        parts["wait for pause"].append(wait)
        parts["transcribe"].append(t.transcribe_s)
        parts["judge+dialogue"].append(t.decided - t.transcript)
        if t.who_wait is not None:
            parts["  of which: wait for who spoke"].append(t.who_wait)
        parts["render+start prompt"].append(t.prompt_started - t.decided)
        parts["audio transcribed (s)"].append(t.audio_s)
    return {k: (statistics.median(v) if v else None) for k, v in parts.items()}


def print_report(results: list[SessionResult], fast: bool, startup: dict) -> dict:
    table = summarize(results, fast)
    print()
    print(("Latency from the end of speech as played in the room, ms" if not fast else
           "Latency from the last voiced frame, ms  (fast clock: estimated)"))
    print("  ('own': the pipeline's _timing measure, from the *processing* of the last voiced frame)")
    print(f"{'turns':<13}{'n':>4}{'transcript p50':>16}{'p95':>8}{'prompt n':>10}"
          f"{'prompt p50':>12}{'p95':>8}{'own p50':>9}{'own p95':>9}   target")
    for label, row in table.items():
        target = ""
        if label == "cue-ended":
            target = (f"prompt p50 <= 400 {ok(row['prompt_p50'] is not None and row['prompt_p50'] <= TARGETS['cue_p50'])}, "
                      f"p95 <= 700 {ok(row['prompt_p95'] is not None and row['prompt_p95'] <= TARGETS['cue_p95'])}")
        print(f"{label:<13}{row['n']:>4}{ms(row['transcript_p50']):>16}{ms(row['transcript_p95']):>8}"
              f"{row['n_prompted']:>10}{ms(row['prompt_p50']):>12}{ms(row['prompt_p95']):>8}"
              f"{ms(row['own_prompt_p50']):>9}{ms(row['own_prompt_p95']):>9}   {target}")

    for kind in ("cue", "complete", "silence"):
        chosen = [t for r in results for t in r.turns if t.reason == kind]
        parts = breakdown(chosen, fast)
        if any(v is not None for v in parts.values()):
            print(f"\nWhere the time goes, {kind}-ended turns with a prompt (medians):")
            for key, value in parts.items():
                shown = f"{value:6.2f} s" if key.startswith("audio") else f"{ms(value)} ms"
                print(f"  {key:<24}{shown if value is not None else '-'}")

    print("\nPer turn:")
    print(f"  {'session':<8}{'#':>3} {'step':<16}{'reason':<9}{'len s':>6}{'->text':>8}"
          f"{'->prompt':>9}{'xcribe':>8}{'audio s':>8}  text")
    for r in results:
        for t in r.turns:
            print(f"  {r.name:<8}{t.number:>3} {t.step:<16}{t.reason:<9}"
                  f"{t.speech_end - t.speech_start:6.1f}{ms(t.latency(t.transcript, fast)):>8}"
                  f"{ms(t.latency(t.prompt_started, fast)):>9}{ms(t.transcribe_s):>8}"
                  f"{t.audio_s:8.1f}  {t.text[:60]}")

    mid_total = sum(len(r.mid_turn) for r in results if r.name == "paused")
    print("\nSessions:")
    for r in results:
        print(f"  {r.name:<8} lines played {r.lines:>3}, turns {r.turn_count:>3}, dropped {r.dropped}, "
              f"ended: {r.end_reason}, {r.wall_s:.0f} s, prompts mid-turn: {len(r.mid_turn)}")
        for m in r.mid_turn:
            print(f"           mid-turn: {m}")
    if EFFECTIVE_GAPS:
        print(f"\nPauses inside the paused session's turns: nominal {PAUSES} s (phrases_with_pauses); "
              f"measured silence {min(EFFECTIVE_GAPS):.2f}-{max(EFFECTIVE_GAPS):.2f} s "
              f"(espeak-ng's ~0.35 s tail adds to each)")
    print(f"\nPrompts started while a partner was mid-turn (paused session): {mid_total}"
          f"   target 0 {ok(mid_total <= TARGETS['mid_turn'])}")

    first = results[0]
    rss = max(r.rss_mb for r in results)
    print("\nStart-up (first session):")
    if startup.get("age_at_top") is not None:
        print(f"  process start -> script top      {startup['age_at_top']:6.2f} s")
    print(f"  imports (numpy, facilitator)     {startup['imports']:6.2f} s")
    print(f"  transcriber load                 {first.load_s:6.2f} s")
    print(f"  transcriber warm-up              {first.warm_s:6.2f} s")
    print(f"  build (load + warm-up + wiring)  {first.build_s:6.2f} s")
    ready_build = first.first_prompt_s
    ready_process = None if ready_build is None else ready_build + startup["before_build"]
    if ready_build is not None:
        print(f"  build start -> ready             {ready_build:6.2f} s   (first sample of the welcome prompt)"
              f"   target <= 3 s {ok(ready_build <= TARGETS['ready'])}")
        print(f"  process start -> ready           {ready_process:6.2f} s   "
              f"(includes imports and rendering the partners' lines with espeak-ng)")
    if first.ready_event_s is not None:
        print(f"  build start -> \"_ready\" event    {first.ready_event_s:6.2f} s   "
              "(published after the welcome prompt has been played)")
    print(f"\nPeak RSS: {rss:.0f} MB   target <= 500 MB {ok(rss <= TARGETS['rss_mb'])}")
    return {"latency": table, "mid_turn": mid_total, "ready_build_s": ready_build,
            "ready_process_s": ready_process, "rss_mb": rss,
            "sessions": [{"name": r.name, "turns": len(r.turns), "mid_turn": r.mid_turn,
                          "end": r.end_reason, "build_s": r.build_s} for r in results]}


def print_mic(mic: dict | None) -> None:
    if not mic:
        print("\nMicrophone path: skipped (PulseAudio not installed or did not start)")
        return
    def sec(value):
        return "     -" if value is None else f"{value:6.2f}"
    print("\nMicrophone path (`facilitator run --device pulse`, private PulseAudio, own process):")
    print(f"  spawn -> record opened (audio arrived, model loaded)  {sec(mic['record_opened_s'])} s")
    print(f"  spawn -> welcome prompt starts (ready)                {sec(mic['first_prompt_s'])} s"
          f"   target <= 3 s {ok(mic['first_prompt_s'] is not None and mic['first_prompt_s'] <= TARGETS['ready'])}")
    print(f"  peak RSS of the program                               {mic['child_peak_rss_mb']:6.0f} MB"
          f"   target <= 500 MB {ok(mic['child_peak_rss_mb'] <= TARGETS['rss_mb'])}")
    print(f"  SIGINT during the welcome prompt: {mic['sigint']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="the first 7 lines of each session only")
    parser.add_argument("--fast-clock", action="store_true",
                        help="feed audio as fast as possible; latencies are estimated")
    parser.add_argument("--only", choices=["demo", "paused", "none"],
                        help="run one of the two sessions (none: only the microphone path)")
    parser.add_argument("--config", help="config.toml to use (default: ./config.toml or the defaults)")
    parser.add_argument("--no-mic", action="store_true",
                        help="skip the microphone-path start-up measurement (private PulseAudio)")
    parser.add_argument("--engine", choices=["piper", "pyttsx3", "espeak-ng", "both"], default="both",
                        help="the facilitator's speech engine; both: piper, then pyttsx3 (default)")
    parser.add_argument("--events", type=Path, help="write every event of the sessions here (JSONL)")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    args = parser.parse_args(argv)

    base = config_module.load(args.config)
    chosen = ["piper", "pyttsx3"] if args.engine == "both" else [args.engine]
    summary: dict = {"engines": {}}
    events: list[tuple[str, str, float, dict]] = []
    for number, engine in enumerate(chosen):
        config = base.with_changes(speech={"engine": engine})
        EFFECTIVE_GAPS.clear()
        results: list[SessionResult] = []
        startup = {"age_at_top": AGE_AT_TOP if number == 0 else None, "imports": T_IMPORTED - T_TOP}
        with tempfile.TemporaryDirectory(prefix="latency-") as folder:
            for name in ("demo", "paused"):
                if args.only and args.only != name:
                    continue
                t0 = time.monotonic()
                names, lines = (demo_lines if name == "demo" else paused_lines)(args.quick)
                if not results:
                    startup["before_build"] = ((AGE_AT_TOP or 0.0) + (time.monotonic() - T_TOP)
                                               if number == 0 else time.monotonic() - t0)
                    startup["render_lines"] = time.monotonic() - t0
                results.append(run_session(name, lines, names, config, args.fast_clock, Path(folder)))
        events += [(engine, r.name, at, event) for r in results for at, event in r.events]
        if results:
            print(f"\n==================== speech engine: {engine} ====================")
            summary["engines"][engine] = print_report(results, args.fast_clock, startup)
            spoken = [e for r in results for _, e in r.events if e["type"] == "_spoken"]
            print(f"  (prompts spoken: {len(spoken)}; the speech engine's own first and later prompts "
                  "are in 'render+start prompt' above)")
    if args.events:
        with open(args.events, "w") as handle:
            for engine, session, at, event in events:
                handle.write(json.dumps({"engine": engine, "session": session, "at": at, **event},
                                        default=str) + "\n")
    if len(summary["engines"]) > 1:
        print_comparison(summary["engines"])
    if not args.no_mic:
        summary["mic"] = mic_startup()
        print_mic(summary["mic"])
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, default=float))
    return 0


def print_comparison(engines: dict[str, dict]) -> None:
    """One line per engine: the numbers the live loop's targets are about."""
    print("\nEngines side by side (cue-ended prompt latency, ms; start-up, s; peak RSS, MB):")
    print(f"  {'engine':<10}{'p50':>7}{'p95':>7}{'all p50':>9}{'all p95':>9}{'mid-turn':>10}"
          f"{'ready':>8}{'RSS':>7}")
    for engine, numbers in engines.items():
        cue, every = numbers["latency"]["cue-ended"], numbers["latency"]["all"]
        ready = numbers.get("ready_build_s")
        print(f"  {engine:<10}{ms(cue['prompt_p50']):>7}{ms(cue['prompt_p95']):>7}"
              f"{ms(every['prompt_p50']):>9}{ms(every['prompt_p95']):>9}{numbers['mid_turn']:>10}"
              f"{'-' if ready is None else f'{ready:.2f}':>8}{numbers['rss_mb']:>7.0f}")
    print("  (peak RSS is this benchmark process's, all engines so far: see `/usr/bin/time -v "
          "facilitator demo --fast --silent` for one engine alone)")


if __name__ == "__main__":
    raise SystemExit(main())
