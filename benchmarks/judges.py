"""Benchmark the judge room: per kind, on text and on what tiny.en heard, and latency.

Usage: .venv/bin/python benchmarks/judges.py [FILE ...] [--judge cross|structured|simple]
                                             [--errors] [--confusion]

With no FILE it judges our own held-out groups (data/judging/*_cases.txt, the groups the
training scripts never train on) and, when present, the shared dev files
(../shared/data/*.jsonl, never trained on), each twice: as written, and as heard (every
Sender turn and reply spoken by espeak-ng or Piper voices in a clean, noisy or reverberant
room and transcribed by the shipped tiny.en pipeline: data/judging/speak_cases.py). Our own
transcripts are data/judging/transcripts.jsonl; the shared files' are made once with

    .venv/bin/python data/judging/speak_cases.py ../shared/data/*.jsonl --jobs 2 \\
        --out ~/.cache/facilitator/benchmarks/shared-transcripts.jsonl

(kept out of the repository, like the shared files). Per kind: accuracy, macro-F1 over all
labels and pass-vs-not macro-F1, latency per judgement on one CPU thread (p50 / p95 ms,
after a warm-up), and at the end the targets of issue 16 and the peak RSS of this process.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "data" / "judging"))

from facilitator.judging import KINDS, PASSING_LABELS  # noqa: E402
from facilitator.judging.cases import read_any  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
OWN_HEARD = ROOT / "data" / "judging" / "transcripts.jsonl"
SHARED_HEARD = Path("~/.cache/facilitator/benchmarks/shared-transcripts.jsonl").expanduser()
LABELS = {
    "mirror": ["mirror", "partial", "not_mirror"],
    "summary": ["complete", "partial", "not_summary"],
    "validation": ["valid", "not_valid"],
    "empathy": ["empathic", "not_empathic"],
    "sender_statement": ["safe", "blaming"],
}
TARGETS = {"mirror": (0.95, 0.90), "summary": (0.95, None), "validation": (0.95, None),
           "empathy": (0.95, None), "sender_statement": (0.95, None)}
HEARD_GAP = 0.03


def macro_f1(gold: list, pred: list, labels: list) -> float:
    scores = []
    for label in labels:
        tp = sum(1 for g, p in zip(gold, pred) if g == label and p == label)
        wrong = sum(1 for g, p in zip(gold, pred) if (g == label) != (p == label))
        if tp + wrong:
            scores.append(2 * tp / (2 * tp + wrong))
    return sum(scores) / len(scores) if scores else 0.0


def heldout_cases() -> list[dict]:
    from train_judge import is_heldout, own_cases  # type: ignore

    return [c for c in own_cases() if is_heldout(c)]


def heard(cases: list[dict], path: Path) -> list[dict]:
    from speak_cases import as_transcribed, load_transcripts  # type: ignore

    transcripts = load_transcripts(path)
    found = [as_transcribed(c, transcripts) for c in cases]
    return [c for c in found if c is not None]


def make_judge(name: str):
    if name == "simple":
        from facilitator.judging.simple import SimpleJudge

        return SimpleJudge()
    if name == "structured":
        from facilitator.judging.structured import StructuredJudge

        return StructuredJudge()
    from facilitator.judging.cross import CrossJudge

    return CrossJudge(threads=1)


def report(name: str, cases: list[dict], judge, errors: bool, confusion: bool) -> dict[str, dict]:
    print(f"\n== {name}: {len(cases)} cases")
    for c in cases[:5]:
        judge.judge(c["kind"], c["context"], c["reply"])  # warm-up
    scores = {}
    for kind in KINDS:
        rows = [c for c in cases if c["kind"] == kind]
        if not rows:
            continue
        gold, pred, times = [], [], []
        for c in rows:
            started = time.perf_counter()
            verdict = judge.judge(kind, c["context"], c["reply"])
            times.append((time.perf_counter() - started) * 1000)
            gold.append(c["label"])
            pred.append(verdict.label)
            if errors and verdict.label != c["label"]:
                print(f"   x {c['id']} gold={c['label']} got={verdict.label} ({verdict.score}) :: {c['reply'][:110]}")
        labels = LABELS[kind]
        passing = PASSING_LABELS[kind]
        binary = macro_f1([g in passing for g in gold], [p in passing for p in pred], [True, False])
        times.sort()
        p50, p95 = statistics.median(times), times[min(len(times) - 1, int(0.95 * len(times)))]
        scores[kind] = {"n": len(rows), "f1": macro_f1(gold, pred, labels), "binary": binary,
                        "p50": p50, "p95": p95}
        accuracy = sum(g == p for g, p in zip(gold, pred)) / len(gold)
        print(f"{kind:17s} n={len(rows):4d} acc={accuracy:.3f} macroF1={scores[kind]['f1']:.3f} "
              f"passVsNotF1={binary:.3f}  p50={p50:.1f}ms p95={p95:.1f}ms")
        if confusion:
            print("   confusion (rows gold, cols predicted): " + " ".join(f"{x[:8]:>8s}" for x in labels))
            for g in labels:
                print(f"   {g:>36s} " + " ".join(
                    f"{sum(1 for a, b in zip(gold, pred) if a == g and b == p):8d}" for p in labels))
    return scores


def targets(results: dict[str, dict[str, dict]]) -> None:
    print("\n== targets (issue 16): pass-vs-not macro-F1 >= 0.95 (mirror 3-class >= 0.90), "
          f"heard no more than {HEARD_GAP} below text")
    for name in [n for n in results if not n.endswith(" heard")]:
        text, spoken = results[name], results.get(name + " heard", {})
        for kind, (binary_target, f1_target) in TARGETS.items():
            if kind not in text:
                continue
            line = f"{name:>14s} {kind:17s} text {text[kind]['binary']:.3f}"
            ok = text[kind]["binary"] >= binary_target
            if f1_target:
                line += f" (3-class {text[kind]['f1']:.3f})"
                ok = ok and text[kind]["f1"] >= f1_target
            if kind in spoken:
                gap = text[kind]["binary"] - spoken[kind]["binary"]
                line += f"  heard {spoken[kind]['binary']:.3f} (gap {gap:+.3f})"
                ok = ok and gap <= HEARD_GAP
            print(f"{line}  {'MET' if ok else 'MISSED'}")
    times = [s for r in results.values() for s in r.values()]
    print(f"latency, one thread: worst p50 {max(s['p50'] for s in times):.1f} ms, "
          f"worst p95 {max(s['p95'] for s in times):.1f} ms (targets 30 / 80)")
    print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the judges.")
    parser.add_argument("files", nargs="*", help=".jsonl (shared format) or .txt (ours)")
    parser.add_argument("--judge", default="cross", choices=["cross", "structured", "simple"])
    parser.add_argument("--errors", action="store_true", help="print every wrong judgement")
    parser.add_argument("--confusion", action="store_true", help="print confusion matrices")
    args = parser.parse_args(argv)
    judge = make_judge(args.judge)
    print(f"judge: {type(judge).__name__}")
    if args.files:
        for f in args.files:
            report(f, read_any(Path(f)), judge, args.errors, args.confusion)
        return 0
    sets = {"own held-out": (heldout_cases(), OWN_HEARD)}
    if SHARED.exists():
        sets["shared dev"] = ([c for p in sorted(SHARED.glob("*.jsonl")) for c in read_any(p)], SHARED_HEARD)
    else:
        print(f"(no {SHARED}: the shared dev files are skipped)")
    results = {}
    for name, (cases, heard_path) in sets.items():
        results[name] = report(f"{name}, text", cases, judge, args.errors, args.confusion)
        spoken = heard(cases, heard_path)
        if spoken:
            results[name + " heard"] = report(f"{name}, heard ({len(spoken)} of {len(cases)} transcribed)",
                                              spoken, judge, args.errors, args.confusion)
        else:
            print(f"\n(no transcripts of {name} in {heard_path}: see this file's docstring)")
    targets(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
