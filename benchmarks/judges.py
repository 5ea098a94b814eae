"""Benchmark the judge room: accuracy, macro-F1, confusion matrix and latency per kind.

Usage: .venv/bin/python benchmarks/judges.py [FILE ...] [--judge structured|simple]

With no FILE it reads our own held-out cases (data/judging, groups never trained on)
and, when present, ../shared/data/*.jsonl (the repo's parent's shared/ folder).
Latency is per judgement after a warm-up pass, p50 / p95 in milliseconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from facilitator.judging import KINDS, PASSING_LABELS, default_judge  # noqa: E402
from facilitator.judging.cases import read_any, read_txt  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
LABELS = {
    "mirror": ["mirror", "partial", "not_mirror"],
    "summary": ["complete", "partial", "not_summary"],
    "validation": ["valid", "not_valid"],
    "empathy": ["empathic", "not_empathic"],
    "sender_statement": ["safe", "blaming"],
}


def macro_f1(gold: list[str], pred: list[str], labels: list[str]) -> float:
    scores = []
    for label in labels:
        tp = sum(1 for g, p in zip(gold, pred) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold, pred) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold, pred) if g == label and p != label)
        if tp + fp + fn == 0:
            continue
        scores.append(2 * tp / (2 * tp + fp + fn))
    return sum(scores) / len(scores) if scores else 0.0


def heldout_cases() -> list[dict]:
    sys.path.insert(0, str(ROOT / "data" / "judging"))
    from train_judge import is_heldout  # type: ignore

    data = ROOT / "data" / "judging"
    own = read_txt(data / "mirror_cases.txt") + read_txt(data / "steps_cases.txt")
    return [c for c in own if is_heldout(c)]


def report(name: str, cases: list[dict], judge, show_errors: bool) -> None:
    print(f"\n== {name}: {len(cases)} cases")
    for c in cases[:5]:
        judge.judge(c["kind"], c["context"], c["reply"])  # warm-up
    for kind in KINDS:
        rows = [c for c in cases if c["kind"] == kind]
        if not rows:
            continue
        gold, pred, times = [], [], []
        for c in rows:
            t0 = time.perf_counter()
            v = judge.judge(kind, c["context"], c["reply"])
            times.append((time.perf_counter() - t0) * 1000)
            gold.append(c["label"])
            pred.append(v.label)
            if show_errors and v.label != c["label"]:
                print(f"   x {c['id']} gold={c['label']} got={v.label} ({v.score}) :: {c['reply'][:110]}")
        labels = LABELS[kind]
        acc = sum(g == p for g, p in zip(gold, pred)) / len(gold)
        line = f"{kind:17s} n={len(rows):4d} acc={acc:.3f} macroF1={macro_f1(gold, pred, labels):.3f}"
        if len(labels) == 3:
            passing = PASSING_LABELS[kind]
            gb = ["pass" if g in passing else "fail" for g in gold]
            pb = ["pass" if p in passing else "fail" for p in pred]
            line += f" binaryF1={macro_f1(gb, pb, ['pass', 'fail']):.3f}"
        times.sort()
        p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
        line += f"  p50={statistics.median(times):.1f}ms p95={p95:.1f}ms"
        print(line)
        print("   confusion (rows gold, cols predicted): " + " ".join(f"{l[:8]:>8s}" for l in labels))
        for g in labels:
            print(f"   {g:>36s} " + " ".join(
                f"{sum(1 for a, b in zip(gold, pred) if a == g and b == p):8d}" for p in labels))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the judges.")
    parser.add_argument("files", nargs="*", help=".jsonl (shared format) or .txt (ours)")
    parser.add_argument("--judge", default="default", choices=["default", "simple"])
    parser.add_argument("--errors", action="store_true", help="print every wrong judgement")
    args = parser.parse_args(argv)
    if args.judge == "simple":
        from facilitator.judging.simple import SimpleJudge

        judge = SimpleJudge()
    else:
        judge = default_judge()
    if args.files:
        for f in args.files:
            report(f, read_any(Path(f)), judge, args.errors)
        return 0
    report("own held-out (data/judging, never trained on)", heldout_cases(), judge, args.errors)
    if SHARED.exists():
        for path in sorted(SHARED.glob("*.jsonl")):
            report(str(path), read_any(path), judge, args.errors)
    else:
        print(f"\n(no {SHARED}; shared dev files skipped)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
