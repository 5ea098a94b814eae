"""Soak: one long simulated session through the real pipeline, as fast as the CPU allows.

Usage:
    .venv/bin/python benchmarks/soak.py [--minutes 60] [--sample-s 30] [--record PATH]
                                        [--config FILE] [--json OUT]

The demo's two synthetic partners (prompts/demo_session.toml, espeak-ng voices) enroll their
voices and then hold the demo's two rounds again and again: the script is the configured
dialogue (prompts/intentional_dialogue.toml) with as many rounds as the input time needs,
so it is ONE session, one record, the models loaded once. Each round pair has a partial
mirror that is caught and retried, and the Sender answering where the Receiver should
(a wrong-speaker reminder). `build_session` (app.py) with a `SimulatedRoom` as the
microphone, speech silent (prompts rendered and timed, not played), no display. The input
stops after `--minutes` of input time (the session then ends with reason input_end); if
the dialogue ends first (it should not), a new session starts in the same process, with
the speech model kept, until the minutes are reached, and the report says so.

Reported:
  input minutes and wall time;
  RSS (/proc/self/status VmRSS) sampled every `--sample-s` seconds of input time: at the
    end of the warm-up (5 min of input, or half the run when shorter), at the end, the
    growth between the two (target <= 20 MB), the mean and the lowest sample of the first
    and of the last 10 minutes after the warm-up, the largest sample and the peak (VmHWM);
  dropped frames: frames the room produced minus frames the session read (the session
    pulls every frame from the source; a frame it read but ignored while the facilitator
    spoke is not dropped), plus gaps in the frames' timeline (target 0);
  the record: size (bytes, KB), lines, every line valid JSON (asserted), event counts.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GROWTH_TARGET_MB = 20.0
WARM_UP_S = 300.0


def rss_mb(field: str = "VmRSS") -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


class CountingSource:
    """Wraps the room: counts frames produced and read, checks their timeline, samples the
    RSS every `sample_s` of input time and stops the input after `limit_s`."""

    def __init__(self, room, limit_s: float, sample_s: float, offset_s: float = 0.0,
                 samples: list | None = None) -> None:
        self.room = room
        self.name = room.name
        self.sample_rate = room.sample_rate
        self.frame_samples = room.frame_samples
        self.limit_s = limit_s
        self.sample_s = sample_s
        self.offset_s = offset_s            # input time of earlier sessions of this soak
        self.samples = samples if samples is not None else []
        self.produced = 0
        self.read = 0
        self.gaps = 0
        self.next_sample = (math.floor(offset_s / sample_s) + 1) * sample_s
        self.started = time.monotonic()
        self.reached_limit = False
        self.last_t = 0.0

    def frames(self):
        step = self.frame_samples / self.sample_rate
        expected = 0.0
        for frame in self.room.frames():
            self.produced += 1
            if abs(frame.t - expected) > step / 2:
                self.gaps += 1
            expected = frame.t + step
            self.last_t = frame.t
            now = self.offset_s + frame.t
            if now >= self.next_sample:
                self.samples.append((round(now, 1), round(time.monotonic() - self.started, 1),
                                     round(rss_mb(), 1)))
                self.next_sample += self.sample_s
            if now >= self.limit_s:
                self.reached_limit = True
                self.produced -= 1          # not handed over
                return
            yield frame
            self.read += 1

    def close(self) -> None:
        self.room.close()


def soak_lines(rounds: int):
    """The demo's lines: enrollment and appointment once, its two rounds `rounds // 2`
    times, the appreciations at the end (each line rendered once, the audio shared)."""
    from facilitator.sim.room import load_demo_lines, render_lines

    names, lines = load_demo_lines()
    render_lines(lines)
    ends = [i for i, line in enumerate(lines) if line.step == "empathy_confirm"]
    sends = [i for i, line in enumerate(lines) if line.step == "send"]
    if len(ends) < 2 or len(sends) < 2:
        raise SystemExit("prompts/demo_session.toml no longer holds two rounds (send ... "
                         "empathy_confirm twice): the soak cannot repeat them")
    head, pair, tail = lines[:sends[0]], lines[sends[0]:ends[1] + 1], lines[ends[1] + 1:]
    repeated = [dataclasses.replace(line) for _ in range(rounds // 2) for line in pair]
    return names, head + repeated + [dataclasses.replace(line) for line in tail]


def long_script(config, rounds: int, folder: Path) -> str:
    """A copy of the configured dialogue script with `rounds` rounds."""
    from facilitator import prompts as prompt_files

    name = config.session.script
    path = Path(name)
    if not path.suffix:
        path = prompt_files.prompts_dir() / f"{name}.toml"
    text = path.read_text(encoding="utf-8")
    text, n = re.subn(r"(?m)^rounds\s*=\s*\d+", f"rounds = {rounds}", text, count=1)
    if n != 1:
        raise SystemExit(f"{path} has no `rounds = N` line for the soak to change")
    copy = folder / f"soak_{path.name}"
    copy.write_text(text, encoding="utf-8")
    return str(copy)


def check_record(path: Path) -> tuple[int, int, Counter, list[dict]]:
    """Size in bytes, line count, event types; fails on any line that is not JSON."""
    data = path.read_bytes()
    lines = data.decode("utf-8").splitlines()
    events = []
    for number, line in enumerate(lines, start=1):
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError as error:
            raise AssertionError(f"{path} line {number} is not valid JSON: {error}") from None
    return len(data), len(lines), Counter(e.get("type") for e in events), events


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="input time (default 60)")
    parser.add_argument("--sample-s", type=float, default=30.0,
                        help="seconds of input time between RSS samples (default 30)")
    parser.add_argument("--record", type=Path, help="where the record goes (default: a temp dir)")
    parser.add_argument("--config", help="a config.toml (default: the built-in defaults)")
    parser.add_argument("--json", type=Path, help="write the numbers to this file")
    args = parser.parse_args(argv)
    if args.minutes <= 0 or args.sample_s <= 0:
        parser.error("--minutes and --sample-s must be positive")

    from facilitator import config as config_module
    from facilitator.app import ROOT as APP_ROOT
    from facilitator.app import RunOptions, build_session, run_session
    from facilitator.sim.room import SimulatedRoom
    from facilitator.loading import Loading
    from facilitator.transcribe import load_transcriber

    try:
        config = config_module.load(args.config)
    except config_module.ConfigError as error:
        print(f"Configuration problem: {error}", file=sys.stderr)
        return 2
    limit_s = args.minutes * 60
    # A round pair of the demo takes about 3.5 min of input; twice as many as needed.
    rounds = 2 * max(2, math.ceil(args.minutes / 3.5) * 2)
    work = Path(tempfile.mkdtemp(prefix="facilitator-soak-"))
    changes = {"script": long_script(config, rounds, work), "data_dir": str(work / "data")}
    if hasattr(config, "with_changes"):
        config = config.with_changes(session=changes)
    else:
        config = dataclasses.replace(config, session=dataclasses.replace(config.session, **changes))
    record = args.record or work / "soak.jsonl"
    print(f"Soak: {args.minutes:g} min of input, script with {rounds} rounds, record {record}")
    rendered = time.monotonic()
    names, lines = soak_lines(rounds)
    print(f"  {len(lines)} lines rendered in {time.monotonic() - rendered:.0f} s; RSS {rss_mb():.0f} MB")

    started = time.monotonic()
    samples: list[tuple[float, float, float]] = []
    sources: list[CountingSource] = []
    reasons: list[str] = []
    transcriber = Loading(load_transcriber, config.transcription, APP_ROOT, name="speech-model")
    offset = 0.0
    while offset < limit_s - 1:
        room = SimulatedRoom(lines, config.turns.frame_ms, realtime=False, echo=True)
        source = CountingSource(room, limit_s, args.sample_s, offset, samples)
        source.started = started
        path = record if not sources else record.with_name(f"{record.stem}.{len(sources)}.jsonl")
        options = RunOptions(realtime=False, speak_aloud=False, record_path=path,
                             input_name="demo", display=False, names=names)
        session, writer = build_session(config, source, options, transcriber=transcriber)
        if hasattr(room, "attach"):
            room.attach(session.bus)
        else:
            session.bus.subscribe(room.listen)
        sources.append(source)
        reasons.append(run_session(session, writer))
        offset += source.last_t + source.frame_samples / source.sample_rate
        if source.reached_limit or source.produced == 0:
            break
        print(f"  session {len(sources)} ended ({reasons[-1]}) at {offset / 60:.1f} min of "
              "input; another starts")
    wall = time.monotonic() - started

    warm_at = min(WARM_UP_S, limit_s / 2)
    warm = next((s for s in samples if s[0] >= warm_at), samples[0] if samples else None)
    end = samples[-1] if samples else None
    produced = sum(s.produced for s in sources)
    read = sum(s.read for s in sources)
    gaps = sum(s.gaps for s in sources)
    size, count, kinds = 0, 0, Counter()
    for n, source in enumerate(sources):
        path = record if n == 0 else record.with_name(f"{record.stem}.{n}.jsonl")
        b, c, k, _ = check_record(path)
        size, count, kinds = size + b, count + c, kinds + k

    print("\nRSS over input time:")
    every = max(1, len(samples) // 24)
    for n, (t, w, r) in enumerate(samples):
        if n % every == 0 or n == len(samples) - 1:
            print(f"  {t / 60:6.1f} min of input  (wall {w:6.0f} s)  {r:6.1f} MB")
    growth = (end[2] - warm[2]) if warm and end else float("nan")
    # One sample lands mid-transcription, the next between turns (tens of MB apart): the
    # mean and the floor of the first and the last ten minutes after the warm-up show a
    # leak better than two single samples.
    window = min(600.0, max(args.sample_s, (limit_s - warm_at) / 2))
    early = [r for t, _, r in samples if warm_at <= t < warm_at + window]
    late = [r for t, _, r in samples if t > limit_s - window]
    windows = {"window_min": round(window / 60, 1),
               "early_mean_mb": round(sum(early) / len(early), 1) if early else None,
               "late_mean_mb": round(sum(late) / len(late), 1) if late else None,
               "early_floor_mb": min(early) if early else None,
               "late_floor_mb": min(late) if late else None}
    result = {
        "input_minutes": round(offset / 60, 2), "wall_s": round(wall, 1),
        "sessions": len(sources), "end_reasons": reasons,
        "rss_warm_mb": warm[2] if warm else None, "warm_at_min": round(warm[0] / 60, 1) if warm else None,
        "rss_end_mb": end[2] if end else None, "growth_mb": round(growth, 1),
        "rss_max_sampled_mb": max(s[2] for s in samples) if samples else None,
        "peak_hwm_mb": round(rss_mb("VmHWM"), 1),
        "frames_produced": produced, "frames_read": read, "dropped_frames": produced - read + gaps,
        "timeline_gaps": gaps, "record_bytes": size, "record_kb": round(size / 1024, 1),
        "record_lines": count, "record_valid_json": True, "events": dict(kinds),
        **windows, "samples": samples,
    }
    ok = lambda good: "ok" if good else "OVER"  # noqa: E731
    print(f"\nInput: {result['input_minutes']:.1f} min in {wall / 60:.1f} min of wall time "
          f"({len(sources)} session{'s' if len(sources) > 1 else ''}, ended: {', '.join(reasons)})")
    print(f"RSS: {result['rss_warm_mb']} MB after warm-up ({result['warm_at_min']} min), "
          f"{result['rss_end_mb']} MB at the end: growth {growth:+.1f} MB "
          f"(target <= {GROWTH_TARGET_MB:.0f} MB: {ok(growth <= GROWTH_TARGET_MB)}); "
          f"largest sample {result['rss_max_sampled_mb']} MB, peak (VmHWM) {result['peak_hwm_mb']} MB")
    if early and late:
        print(f"     mean {windows['early_mean_mb']} MB in the first {windows['window_min']:g} min "
              f"after warm-up, {windows['late_mean_mb']} MB in the last "
              f"({windows['late_mean_mb'] - windows['early_mean_mb']:+.1f} MB); floor "
              f"{windows['early_floor_mb']} -> {windows['late_floor_mb']} MB "
              f"({windows['late_floor_mb'] - windows['early_floor_mb']:+.1f} MB)")
    print(f"Frames: {produced} produced, {read} read, {gaps} timeline gaps: dropped "
          f"{result['dropped_frames']} (target 0: {ok(result['dropped_frames'] == 0)})")
    print(f"Record: {size} bytes ({size / 1024:.1f} KB), {count} lines, every line valid JSON; "
          + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
