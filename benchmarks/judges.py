"""Benchmark the judge room: accuracy, macro-F1, confusion matrix and latency per kind.

Usage: .venv/bin/python benchmarks/judges.py [FILE ...] [--judge default|simple] [--fallback] [--errors]

With no FILE it reads our own held-out cases (data/judging/*_cases.txt, the groups
train_judge.py never trains on) and, when present, ../shared/data/*.jsonl (the repo's
parent's shared/ folder), judged by a model trained WITHOUT them: the shipped
weights.json when it says so (trained_on.shared false), else a model retrained here on
our own training groups only. --fallback judges without the paraphrase model (as when
its package is missing). Latency is per judgement after a warm-up pass, p50 / p95 in
milliseconds, in file order (the Sender's units are embedded once per turn and reused for
the next replies to it, as in a session's retries); "cold" clears the embedding cache
before each judgement (every Sender turn new).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "data" / "judging"))

from facilitator.judging import KINDS, PASSING_LABELS, default_judge  # noqa: E402
from facilitator.judging.cases import read_any  # noqa: E402
from facilitator.judging.head import WEIGHTS_PATH, heads_from_model  # noqa: E402

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
    from train_judge import is_heldout, own_cases  # type: ignore

    return [c for c in own_cases() if is_heldout(c)]


def _percentiles(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return statistics.median(times), times[min(len(times) - 1, int(0.95 * len(times)))]


def report(name: str, cases: list[dict], judge, show_errors: bool) -> None:
    print(f"\n== {name}: {len(cases)} cases")
    for c in cases[:5]:
        judge.judge(c["kind"], c["context"], c["reply"])  # warm-up
    embedder = getattr(judge, "embedder", None)
    for kind in KINDS:
        rows = [c for c in cases if c["kind"] == kind]
        if not rows:
            continue
        gold, pred, times, cold = [], [], [], []
        for c in rows:  # in file order: replies to one Sender turn follow each other, as retries do
            t0 = time.perf_counter()
            v = judge.judge(kind, c["context"], c["reply"])
            times.append((time.perf_counter() - t0) * 1000)
            gold.append(c["label"])
            pred.append(v.label)
            if show_errors and v.label != c["label"]:
                print(f"   x {c['id']} gold={c['label']} got={v.label} ({v.score}) :: {c['reply'][:110]}")
        if embedder is not None:
            for c in rows:
                embedder.clear_cache()
                t0 = time.perf_counter()
                judge.judge(kind, c["context"], c["reply"])
                cold.append((time.perf_counter() - t0) * 1000)
        labels = LABELS[kind]
        acc = sum(g == p for g, p in zip(gold, pred)) / len(gold)
        line = f"{kind:17s} n={len(rows):4d} acc={acc:.3f} macroF1={macro_f1(gold, pred, labels):.3f}"
        if len(labels) == 3:
            passing = PASSING_LABELS[kind]
            gb = ["pass" if g in passing else "fail" for g in gold]
            pb = ["pass" if p in passing else "fail" for p in pred]
            line += f" binaryF1={macro_f1(gb, pb, ['pass', 'fail']):.3f}"
        p50, p95 = _percentiles(times)
        line += f"  p50={p50:.1f}ms p95={p95:.1f}ms"
        if cold:
            c50, c95 = _percentiles(cold)
            line += f" (cold p50={c50:.1f}ms p95={c95:.1f}ms)"
        print(line)
        print("   confusion (rows gold, cols predicted): " + " ".join(f"{l[:8]:>8s}" for l in labels))
        for g in labels:
            print(f"   {g:>36s} " + " ".join(
                f"{sum(1 for a, b in zip(gold, pred) if a == g and b == p):8d}" for p in labels))


def judge_without_shared(judge, fallback: bool):
    """The same kind of judge, but certainly trained without ../shared (retrained if need be)."""
    trained = json.loads(WEIGHTS_PATH.read_text()).get("trained_on", {}) if WEIGHTS_PATH.exists() else {}
    if not trained.get("shared", True) and trained.get("own_cases") != "all":
        return judge, "the shipped weights (trained on our own training groups only)"
    from train_judge import is_heldout, own_cases, train  # type: ignore

    from facilitator.judging.structured import StructuredJudge

    print("\n(the shipped weights saw ../shared or our held-out groups: retraining on our training groups only)")
    model = train([c for c in own_cases() if not is_heldout(c)], None if fallback else "auto")
    return StructuredJudge(heads_from_model(model), None if fallback else "auto"), "a model retrained here without them"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the judges.")
    parser.add_argument("files", nargs="*", help=".jsonl (shared format) or .txt (ours)")
    parser.add_argument("--judge", default="default", choices=["default", "simple"])
    parser.add_argument("--fallback", action="store_true", help="judge without the paraphrase model")
    parser.add_argument("--errors", action="store_true", help="print every wrong judgement")
    args = parser.parse_args(argv)
    if args.judge == "simple":
        from facilitator.judging.simple import SimpleJudge

        judge = SimpleJudge()
    elif args.fallback:
        from facilitator.judging.structured import StructuredJudge

        judge = StructuredJudge(embedder=None)
    else:
        judge = default_judge()
    mode = "with the paraphrase model" if getattr(judge, "embedder", None) is not None else "word-level only"
    print(f"judge: {type(judge).__name__}, {mode}")
    if args.files:
        for f in args.files:
            report(f, read_any(Path(f)), judge, args.errors)
        return 0
    report("own held-out (data/judging, never trained on)", heldout_cases(), judge, args.errors)
    if SHARED.exists():
        unseen, how = judge_without_shared(judge, args.fallback) if args.judge == "default" else (judge, "")
        for path in sorted(SHARED.glob("*.jsonl")):
            report(f"{path} (unseen: {how})" if how else str(path), read_any(path), unseen, args.errors)
    else:
        print(f"\n(no {SHARED}; shared dev files skipped)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
