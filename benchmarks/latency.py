"""Benchmark the live loop: response latency, start-up time, memory, prompts mid-thought.

Usage:
    .venv/bin/python benchmarks/latency.py [--quick] [--fast-clock] [--only demo|paused|finished|fluent|none]
                                           [--engine piper|pyttsx3|espeak-ng|both]
                                           [--partners espeak|piper|both]
                                           [--no-mic] [--config FILE] [--json OUT] [--events OUT]

Timings (2 cores): one (engine, partners) combination takes about 22 minutes in real time
(estimated: its four sessions hold about 5 minutes of input each), with --quick about 10.5
(measured on a quiet machine); --fast-clock about 2 minutes, --quick --fast-clock about 1.3.
The defaults run four combinations: --quick --no-mic about 42 minutes, --quick --fast-clock
--no-mic about 6. Rendering the partners' lines first takes about 2 s with espeak-ng, 15 s with Piper.

--engine: the facilitator's speech engine ([speech] engine); "both" (the default) is Piper,
then pyttsx3, since the prompt latency includes rendering the prompt.
--partners: the partners' voices: "espeak" (espeak-ng "en-us" for A, "en-us+f3" for B, as in
the demo), "piper" ("piper:joe+low" for A, "piper:joe+high" for B: Piper's natural voice,
facilitator/sim/voices.py), "both" (the default). One report block per (engine, partners).

Four scripted sessions (benchmarks/latency_sessions.py; --only picks one):
1. "demo":     the lines of prompts/demo_session.toml, as `facilitator demo` plays them.
2. "paused":   the same session, but the turns of the send / mirror / summary / validate /
               empathize steps hold pauses of 0.8, 1.0, 1.2 and 1.5 s between their clauses.
3. "finished": turns that end on a finished thought without the step's cue (the message, a
               mirror without "did I get that?", a summary, a validation, an empathy line,
               "Yes, exactly."), several with mid-thought pauses of 0.8-1.5 s (after "when",
               "and", "because", between a subject and its verb, between two sentences).
4. "fluent":   the "finished" lines without their pauses: partners who stop only as briefly
               as their voice does between sentences. The facilitator learns each partner's
               pace (facilitator/turn_end/pacing.py): these are answered sooner.
A pause is that much silence between the loud parts of two phrases (each phrase's padding is
cut at the pause). --quick: the first 7 lines of "demo" and "paused", the first round of
"finished" and "fluent" (13 lines each).

How it runs: the partners' lines are rendered first, in a process of their own per partners
kind, into WAV files in a temporary folder (`--_render`). Then each session of each
(engine, partners) combination runs in a fresh child process of this script (`--_child`),
which reads the WAVs and holds what the program holds: the real pipeline (`build_session`:
VAD, end of turn, faster-whisper, judge, dialogue, prompt rendering) with a SimulatedRoom as
the microphone and a SilentOutput voice (prompts are rendered and timed as if played, but
not heard), display off, plus the benchmark's event log. It writes its numbers as JSON; this
process prints the report and imports no model.

Per turn (from the internal "_timing" and "_spoken" events):
    last voice -> transcript   the end of the speech as played by the room (real time: the
                               room's clock start + the turn's speech end) to the final transcript
    last voice -> prompt       ... to the first sample of the prompt that answers the turn
                               (only turns followed by a prompt)
grouped into cue-ended turns (end reason "cue") and the others (each reason the loop gives,
e.g. "complete", "silence"), p50 and p95; 'own' is the pipeline's measure, from the
*processing* of the last voiced frame. Where the time goes: the wait for the pause (VAD
hangover + frames queued behind work), transcription (every transcribe call inside the
window), judge + dialogue, prompt render.

Issue 17's targets, per (engine, partners), ok / MISS:
    cue-ended turn -> prompt                 p50 <= 250 ms, p95 <= 400 ms
    finished thought, no cue -> prompt       p50 <= 1.0 s, p95 <= 1.5 s (end reason not "cue")
    prompts started while a partner is mid-thought: 0 (all sessions; a prompt whose interval
        on the input timeline overlaps a partner's line from its first to its last loud
        10 ms, pauses inside included), also summed per partners kind over the engines
    peak RSS of the program <= 500 MB: the largest VmHWM (/proc/self/status) of the session
        processes; each holds one session, its models, the partners' lines as audio (as
        `facilitator simulate` does) and the event log, but not the partners' renderers.
Start-up (the combination's first session's process): process start -> script top ->
imports -> lines read -> transcriber loaded and warmed up -> session built -> the first
prompt's first sample ("ready": the person hears the welcome) -> the "_ready" event
(published after the welcome prompt has been played).
Microphone path (unless --no-mic, and when PulseAudio is installed): `facilitator run
--device pulse` is spawned on a private PulseAudio server and timed from spawn to its
welcome prompt; its peak RSS is measured too (benchmarks/latency_mic.py).

--fast-clock feeds the room as fast as the CPU allows; latencies are then *estimated* as
(input-time hangover: turn event time - speech end) + (wall time from the last voiced
frame to the transcript / prompt), which is what real time would show on an idle machine.
"""

from __future__ import annotations

import time

T_TOP = time.monotonic()     # before the heavy imports (a child process's)

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(BENCH), str(ROOT)]

import latency_report as report  # noqa: E402
from latency_sessions import PARTNERS, SESSIONS  # noqa: E402  (numpy only)


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


# -- the processes ---------------------------------------------------------------------------
def child_main(args) -> int:
    """--_child MANIFEST: one session in this process; its numbers to --_out as JSON."""
    import latency_measure
    from facilitator import config as config_module

    imported = time.monotonic()
    config = config_module.load(args.config).with_changes(speech={"engine": args.engine})
    with tempfile.TemporaryDirectory(prefix="latency-record-") as folder:
        result = latency_measure.run(Path(args._child), config, args.fast_clock, Path(folder),
                                     Path(args._events) if args._events else None)
    result.update(age_at_top=AGE_AT_TOP, imports_s=imported - T_TOP,
                  before_build_s=(AGE_AT_TOP or 0.0) + (result.pop("build_at") - T_TOP))
    Path(args._out).write_text(json.dumps(result, default=float))
    return 0


def render_main(args) -> int:
    """--_render FOLDER: the sessions' lines with --partners' voices, as WAVs and manifests."""
    import latency_sessions

    for session in chosen_sessions(args):
        latency_sessions.render(session, args.partners, args.quick, Path(args._render))
    return 0


def chosen_sessions(args) -> list[str]:
    return [s for s in SESSIONS if not args.only or args.only == s]


def spawn(args, *extra: str) -> int:
    """This script in a fresh interpreter with the shared options and `extra`; its exit code."""
    command = [sys.executable, str(Path(__file__).resolve()), *extra]
    if args.quick:
        command.append("--quick")
    if args.fast_clock:
        command.append("--fast-clock")
    if args.config:
        command += ["--config", args.config]
    if args.only:
        command += ["--only", args.only]
    return subprocess.run(command, stdin=subprocess.DEVNULL).returncode


def run_combination(args, engine: str, partners: str, folder: Path) -> list[dict]:
    """Each chosen session with `engine` and `partners`, each in its own process."""
    results = []
    for session in chosen_sessions(args):
        out = folder / f"result-{engine}-{partners}-{session}.json"
        events = folder / f"events-{engine}-{partners}-{session}.jsonl"
        extra = ["--_child", str(folder / f"{session}-{partners}.json"), "--_out", str(out),
                 "--engine", engine]
        if args.events:
            extra += ["--_events", str(events)]
        code = spawn(args, *extra)
        if code != 0 or not out.exists():
            print(f"latency benchmark: the {session} session ({engine}, {partners} partners) "
                  f"failed (exit code {code}); see above", file=sys.stderr)
            continue
        results.append(json.loads(out.read_text()))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="the first 7 lines of demo and paused, the first round of finished")
    parser.add_argument("--fast-clock", action="store_true",
                        help="feed audio as fast as possible; latencies are estimated")
    parser.add_argument("--only", choices=[*SESSIONS, "none"],
                        help="run one of the sessions (none: only the microphone path)")
    parser.add_argument("--config", help="config.toml to use (default: ./config.toml or the defaults)")
    parser.add_argument("--no-mic", action="store_true",
                        help="skip the microphone-path start-up measurement (private PulseAudio)")
    parser.add_argument("--engine", choices=["piper", "pyttsx3", "espeak-ng", "both"], default="both",
                        help="the facilitator's speech engine; both: piper, then pyttsx3 (default)")
    parser.add_argument("--partners", choices=[*PARTNERS, "both"], default="both",
                        help="the partners' voices: espeak-ng, Piper (joe+low / joe+high), both (default)")
    parser.add_argument("--events", type=Path, help="write every event of the sessions here (JSONL)")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    for hidden in ("--_child", "--_out", "--_events", "--_render"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._child:
        return child_main(args)
    if args._render:
        return render_main(args)

    engines = ["piper", "pyttsx3"] if args.engine == "both" else [args.engine]
    kinds = list(PARTNERS) if args.partners == "both" else [args.partners]
    summary: dict = {"combinations": {}}
    failed = False
    with tempfile.TemporaryDirectory(prefix="latency-") as name:
        folder = Path(name)
        if chosen_sessions(args):
            for kind in kinds:
                started = time.monotonic()
                if spawn(args, "--_render", name, "--partners", kind) != 0:
                    print(f"latency benchmark: rendering the {kind} partners' lines failed",
                          file=sys.stderr)
                    return 1
                print(f"[{kind} partners' lines rendered in {time.monotonic() - started:.1f} s]",
                      file=sys.stderr, flush=True)
        for engine in engines:
            for kind in kinds:
                results = run_combination(args, engine, kind, folder) if chosen_sessions(args) else []
                failed |= len(results) < len(chosen_sessions(args))
                if not results:
                    continue
                label = f"{engine} / {kind}"
                summary["combinations"][label] = report.print_combination(
                    engine, kind, PARTNERS[kind], results, args.fast_clock)
                if args.events:
                    write_events(args.events, folder, engine, kind, chosen_sessions(args),
                                 append=len(summary["combinations"]) > 1)
    if len(summary["combinations"]) > 1:
        report.print_comparison(summary["combinations"])
    if not args.no_mic:
        from latency_mic import mic_startup

        summary["mic"] = mic_startup()
        report.print_mic(summary["mic"])
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, default=float))
    return 1 if failed else 0


def write_events(path: Path, folder: Path, engine: str, partners: str, sessions: list[str],
                 append: bool) -> None:
    """The sessions' events (written by the children) into one JSONL file, each tagged."""
    with open(path, "a" if append else "w") as handle:
        for session in sessions:
            source = folder / f"events-{engine}-{partners}-{session}.jsonl"
            if not source.exists():
                continue
            for row in source.read_text().splitlines():
                event = json.loads(row)
                handle.write(json.dumps({"engine": engine, "partners": partners,
                                         "session": session, **event}) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
