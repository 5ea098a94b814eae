"""Where the memory goes: RSS after loading (and running) each model in turn, and the peak
RSS of a whole `facilitator demo --fast --silent`.

Usage:
    .venv/bin/python benchmarks/memory.py [--compare] [--no-demo] [--json OUT]

1. Each model in turn, in a fresh interpreter, loaded as the program loads it (on a
   `Loading` thread): RSS after each step, its growth and the peak so far (/proc/self/status
   VmRSS, VmHWM):
     start                 Python, numpy, facilitator imported
     Whisper               tiny.en (CTranslate2 int8) loaded and warmed up (`load_transcriber`)
     judge                 `default_judge()`: MiniLM on onnxruntime, the learnt head
     judge x40             40 mirrors judged
     voice model           `make_backend("campplus")`: CAM++ + GMM + the overlap network
     enrolled + 20 turns   both voices enrolled from 10 s each (espeak-ng), 20 turns of 5 s
                           attributed (CAM++, GMM, overlap network), interruptions checked
     20 transcribed        20 turns of 5 s transcribed
2. `facilitator demo --fast --silent` in a child process (the built-in demo through the
   real pipeline; about 25 s on two idle cores, minutes on busy ones): its peak RSS
   (os.wait4's ru_maxrss of that child), when the peak came, and its RSS at the end.
   Target: 500 MB.

--compare measures everything twice: "before", as the program ran before the memory work
(onnxruntime's CPU arena and memory pattern on, glibc's malloc untouched, CAM++ keeping its
numpy weights), then "now". The switches: `facilitator.onnx_runtime.LEAN_MEMORY`,
`FACILITATOR_MALLOC_TUNING=0` (facilitator/loading.py), `CAMPPlus._FRAME_WEIGHTS`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_MB = 500.0
MODES = {"before": "before the memory work (ORT arena on, malloc untouched, CAM++ numpy weights kept)",
         "now": "as the program runs now"}


def status_mb(field: str, pid: int | str = "self") -> float:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def child_env(mode: str) -> dict[str, str]:
    env = dict(os.environ)
    if mode == "before":
        env["FACILITATOR_MALLOC_TUNING"] = "0"
    else:
        env.pop("FACILITATOR_MALLOC_TUNING", None)
    return env


SETUP = """
import facilitator.onnx_runtime as ort_settings
from facilitator.speakers.campplus import CAMPPlus
if {before!r}:
    ort_settings.LEAN_MEMORY = False
    CAMPPlus._FRAME_WEIGHTS = ()
"""


# ------------------------------------------------------------------ 1. model by model

def steps(mode: str) -> list[dict]:
    import numpy as np

    exec(SETUP.format(before=mode == "before"), {})
    from facilitator.loading import Loading

    rows: list[dict] = []
    last = [status_mb("VmRSS")]

    def mark(step: str, started: float) -> None:
        rss = status_mb("VmRSS")
        rows.append({"step": step, "rss_mb": round(rss, 1), "growth_mb": round(rss - last[0], 1),
                     "peak_mb": round(status_mb("VmHWM"), 1),
                     "seconds": round(time.monotonic() - started, 1)})
        last[0] = rss

    mark("start (python, numpy, facilitator)", time.monotonic())
    from facilitator.app import ROOT as APP_ROOT
    from facilitator.config import Config
    from facilitator.transcribe import load_transcriber

    config = Config()
    t = time.monotonic()
    transcriber = Loading(load_transcriber, config.transcription, APP_ROOT).ready()
    mark("Whisper tiny.en loaded + warmed up", t)

    from facilitator.judging import default_judge

    t = time.monotonic()
    judge = Loading(default_judge).ready()
    mark("judge made (MiniLM on onnxruntime)", t)
    t = time.monotonic()
    sender = "I felt lonely last week when you worked late every night. I missed our dinners."
    for i in range(40):
        judge.judge("mirror", [sender], f"So you felt lonely {i} nights when I worked late.")
    mark("40 mirrors judged", t)

    from facilitator.speakers.backends import make_backend

    t = time.monotonic()
    backend = Loading(make_backend, "campplus").ready()
    mark("voice model: CAM++ + GMM + overlap network", t)

    from facilitator.speakers.enrollment import enroll
    from facilitator.speakers.identify import SpeakerIdentifier
    from facilitator.sim.voices import PARTNER_VOICES, phrases_with_pauses

    a = phrases_with_pauses(
        ["My day was busy. I went for a run in the morning, then I worked on the garden",
         "and cooked a big pot of soup for the week. Now I am glad to sit down with you."],
        PARTNER_VOICES["A"], [0.3])
    b = phrases_with_pauses(
        ["My day was good but long. I had meetings all morning, I walked the dog at lunch,",
         "and in the afternoon I finally finished the report I had been writing for weeks."],
        PARTNER_VOICES["B"], [0.3])
    t = time.monotonic()
    profiles = {label: enroll(label, audio.astype(np.float32) / 32768.0, backend)
                for label, audio in (("A", a), ("B", b))}
    identifier = SpeakerIdentifier(profiles, backend=backend)
    turns = [phrases_with_pauses(["I felt lonely last week when you worked late every night.",
                                  "I missed having dinner together."], PARTNER_VOICES["A"], [0.8]),
             phrases_with_pauses(["What I hear you saying is that you felt lonely last week.",
                                  "Did I get that?"], PARTNER_VOICES["B"], [0.5])]
    for i in range(20):
        audio = turns[i % 2].astype(np.float32) / 32768.0
        attribution = identifier.attribute(audio, expected="AB"[i % 2])
        identifier.interruptions(attribution, expected="AB"[i % 2])
    mark("voices enrolled, 20 turns of 5 s attributed", t)

    t = time.monotonic()
    for i in range(20):
        transcriber.transcribe(turns[i % 2])
    mark("20 turns of 5 s transcribed", t)
    return rows


# ------------------------------------------------------------------ 2. the demo

def demo(mode: str) -> dict:
    """`facilitator demo --fast --silent` in a child, its RSS sampled every 0.1 s."""
    with tempfile.TemporaryDirectory() as tmp:
        record = Path(tmp) / "demo.jsonl"
        code = SETUP.format(before=mode == "before") + (
            "import sys\nfrom facilitator.cli import main\nsys.exit(main(sys.argv[1:]))\n")
        env = {**child_env(mode), "FACILITATOR_DATA_DIR": tmp}
        started = time.monotonic()
        child = subprocess.Popen([sys.executable, "-c", code, "demo", "--fast", "--silent",
                                  "--record", str(record)], cwd=ROOT, env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        errors: list[str] = []
        reader = threading.Thread(target=lambda: errors.append(child.stderr.read()), daemon=True)
        reader.start()
        samples: list[tuple[float, float]] = []
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            rss = status_mb("VmRSS", child.pid)
            if rss == rss:
                samples.append((time.monotonic() - started, rss))
            time.sleep(0.1)
        wall = time.monotonic() - started
        reader.join(5)
        lines = record.read_text().splitlines() if record.exists() else []
    end = json.loads(lines[-1]) if lines else {}
    peak_at = max(samples, key=lambda s: s[1]) if samples else (float("nan"), float("nan"))
    return {"peak_mb": round(usage.ru_maxrss / 1024, 1), "peak_at_s": round(peak_at[0], 1),
            "end_mb": round(samples[-1][1], 1) if samples else None, "wall_s": round(wall, 1),
            "exit": os.waitstatus_to_exitcode(status), "end": end.get("reason"),
            "record_lines": len(lines), "stderr": "".join(errors)[-1500:]}


def in_child(what: str, mode: str) -> object:
    done = subprocess.run([sys.executable, __file__, "--child", what, "--mode", mode],
                          cwd=ROOT, env=child_env(mode), capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the {what} measurement ({mode}) failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def show_steps(mode: str, rows: list[dict]) -> None:
    print(f"\nModel by model, {MODES[mode]}:")
    print(f"  {'step':<48} {'RSS MB':>7} {'+MB':>7} {'peak MB':>8} {'s':>6}")
    for row in rows:
        print(f"  {row['step']:<48} {row['rss_mb']:>7.1f} {row['growth_mb']:>+7.1f} "
              f"{row['peak_mb']:>8.1f} {row['seconds']:>6.1f}")


def show_demo(mode: str, result: dict) -> None:
    flag = "ok" if result["peak_mb"] <= TARGET_MB else "OVER"
    print(f"\n`facilitator demo --fast --silent`, {MODES[mode]}:\n"
          f"  peak RSS {result['peak_mb']:.0f} MB (target <= {TARGET_MB:.0f} MB: {flag}), "
          f"reached {result['peak_at_s']:.0f} s in; RSS at the end {result['end_mb']} MB; "
          f"{result['wall_s']:.0f} s; exit {result['exit']}, end reason {result['end']}, "
          f"{result['record_lines']} record lines")
    if result["exit"] != 0 and result["stderr"]:
        print("  stderr: " + result["stderr"].strip().replace("\n", "\n          "))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--compare", action="store_true",
                        help="measure 'before' the memory work as well as 'now'")
    parser.add_argument("--no-demo", action="store_true", help="skip the demo (section 2)")
    parser.add_argument("--json", type=Path, help="write the numbers to this file")
    parser.add_argument("--child", choices=("steps", "demo"), help=argparse.SUPPRESS)
    parser.add_argument("--mode", choices=tuple(MODES), default="now", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        print(json.dumps(steps(args.mode) if args.child == "steps" else demo(args.mode)))
        return 0
    modes = ["before", "now"] if args.compare else ["now"]
    results: dict[str, dict] = {mode: {} for mode in modes}
    for mode in modes:
        results[mode]["steps"] = rows = in_child("steps", mode)
        show_steps(mode, rows)
    if not args.no_demo:
        for mode in modes:
            results[mode]["demo"] = result = in_child("demo", mode)
            show_demo(mode, result)
    if args.compare and not args.no_demo:
        before, now = results["before"]["demo"]["peak_mb"], results["now"]["demo"]["peak_mb"]
        print(f"\nDemo peak RSS: {before:.0f} MB before -> {now:.0f} MB now ({now - before:+.0f} MB)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
