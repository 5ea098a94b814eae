"""Train the text end-of-turn model (facilitator/turn_end/weights.json) from the repository.

    .venv/bin/python data/turn_end/train.py            # train, report held-out numbers, write weights
    .venv/bin/python data/turn_end/train.py --compare  # also the two-class variant, for the report
    .venv/bin/python data/turn_end/train.py --dry-run  # report only

A multinomial logistic regression (numpy, full-batch Adam, L2) over the features of
facilitator/turn_end/features.py, on the examples of data/turn_end/examples.py. Classes:
"unfinished", "boundary" (a sentence of a longer turn ended), "finished"; `--two-class`
counts a boundary as unfinished. One turn group in five is held out (by hash); the report
gives, per step group, the accuracy of "finished or not" at P(finished) >= 0.5, the AUC of
P(finished) for whole turns against mid-sentence prefixes and against sentence-boundary
prefixes, and what the model gives boundary prefixes. The shipped weights are then refit on
all groups. Deterministic (seed 0); about a minute on one core.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "data" / "turn_end"), str(ROOT / "benchmarks")]

import examples as E  # noqa: E402
from facilitator.turn_end import features as F  # noqa: E402
from facilitator.turn_end.words import FORMAT, WEIGHTS  # noqa: E402

CLASSES3 = ["unfinished", "boundary", "finished"]
CLASSES2 = ["unfinished", "finished"]


def measurement_keys() -> set[str]:
    """The words of the turns the benchmarks measure, kept out of training."""
    keys = set()
    try:
        import latency_sessions
        import turn_end as bench
    except ImportError as error:  # pragma: no cover - both ship with the repository
        raise SystemExit(f"cannot read the benchmarks' turns: {error}")
    for _, _, text in latency_sessions.FINISHED_LINES:
        keys.add(E._key(text.replace("|", " ")))
    for turn in bench.TURNS:
        keys.add(E._key(turn.text.replace("|", " ")))
    return keys


def encode(exs: list[E.Example], vocab: dict[str, int] | None, min_count: int = 2):
    feats = [F.features(e.text, e.step) for e in exs]
    if vocab is None:
        counts: dict[str, int] = defaultdict(int)
        for fs in feats:
            for f in fs:
                counts[f] += 1
        vocab = {f: i for i, f in enumerate(sorted(f for f, c in counts.items() if c >= min_count or f == "bias"))}
    rows, cols = [], []
    for r, fs in enumerate(feats):
        for f in fs:
            if f in vocab:
                rows.append(r)
                cols.append(vocab[f])
    return np.asarray(rows), np.asarray(cols), vocab


def fit(rows, cols, n, n_feat, y, w, k, l2=3e-4, steps=400, lr=0.08):
    W = np.zeros((n_feat, k))
    m, v = np.zeros_like(W), np.zeros_like(W)
    Y = np.eye(k)[y]
    wsum = w.sum()
    for t in range(1, steps + 1):
        Z = np.stack([np.bincount(rows, weights=W[cols, j], minlength=n) for j in range(k)], axis=1)
        Z -= Z.max(axis=1, keepdims=True)
        P = np.exp(Z)
        P /= P.sum(axis=1, keepdims=True)
        G = (P - Y) * (w / wsum)[:, None]
        grad = np.stack([np.bincount(cols, weights=G[rows, j], minlength=n_feat) for j in range(k)], axis=1)
        grad += l2 * W
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad * grad
        W -= lr * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    return W


def predict(W, rows, cols, n):
    Z = np.stack([np.bincount(rows, weights=W[cols, j], minlength=n) for j in range(W.shape[1])], axis=1)
    Z -= Z.max(axis=1, keepdims=True)
    P = np.exp(Z)
    return P / P.sum(axis=1, keepdims=True)


def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    if not len(pos) or not len(neg):
        return float("nan")
    scores = np.concatenate([pos, neg])
    order = scores.argsort(kind="mergesort")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    # ties: average ranks
    for value in np.unique(scores):
        same = scores == value
        if same.sum() > 1:
            ranks[same] = ranks[same].mean()
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def report(name: str, exs: list[E.Example], p_fin: np.ndarray) -> dict:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, e in enumerate(exs):
        groups[F.step_group(e.step)].append(i)
        groups["all"].append(i)
    print(f"\n{name}: held-out, by step group (accuracy of finished-or-not at P >= 0.5;"
          " AUC whole vs mid-sentence, whole vs boundary; P(finished) at boundaries)")
    print(f"  {'group':<12}{'turns':>6}{'prefixes':>9}{'acc':>7}{'acc-w':>7}{'AUC-mid':>8}{'AUC-bnd':>8}"
          f"{'bnd P50':>8}{'bnd>=.5':>8}")
    out = {}
    for group in sorted(groups, key=lambda g: (g == "all", g)):
        idx = np.asarray(groups[group])
        labels = np.asarray([exs[i].label for i in idx])
        weights = np.asarray([exs[i].weight for i in idx])
        p = p_fin[idx]
        fin, mid, bnd = p[labels == "finished"], p[labels == "unfinished"], p[labels == "boundary"]
        correct = (p >= 0.5) == (labels == "finished")
        row = {"turns": int(len(fin)), "prefixes": int(len(mid) + len(bnd)),
               "accuracy": float(correct.mean()), "weighted_accuracy": float((correct * weights).sum() / weights.sum()),
               "auc_mid": auc(fin, mid), "auc_boundary": auc(fin, bnd),
               "boundary_p50": float(np.median(bnd)) if len(bnd) else float("nan"),
               "boundary_share_finished": float((bnd >= 0.5).mean()) if len(bnd) else float("nan")}
        out[group] = row
        print(f"  {group:<12}{row['turns']:>6}{row['prefixes']:>9}{row['accuracy']:>7.3f}"
              f"{row['weighted_accuracy']:>7.3f}{row['auc_mid']:>8.3f}{row['auc_boundary']:>8.3f}"
              f"{row['boundary_p50']:>8.2f}{row['boundary_share_finished']:>8.2f}")
    return out


def run(exs: list[E.Example], classes: list[str], name: str) -> tuple[np.ndarray, dict, dict]:
    label_of = {c: i for i, c in enumerate(classes)}
    y_of = [label_of.get(e.label, label_of["unfinished"]) for e in exs]
    train_idx = [i for i, e in enumerate(exs) if not E.held_out(e.group)]
    test_idx = [i for i, e in enumerate(exs) if E.held_out(e.group)]
    tr = [exs[i] for i in train_idx]
    te = [exs[i] for i in test_idx]
    rows, cols, vocab = encode(tr, None)
    W = fit(rows, cols, len(tr), len(vocab), np.asarray([y_of[i] for i in train_idx]),
            np.asarray([e.weight for e in tr]), len(classes))
    trows, tcols, _ = encode(te, vocab)
    P = predict(W, trows, tcols, len(te))
    metrics = report(name, te, P[:, label_of["finished"]])
    rows, cols, vocab = encode(exs, None)
    W = fit(rows, cols, len(exs), len(vocab), np.asarray(y_of), np.asarray([e.weight for e in exs]), len(classes))
    return W, vocab, metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--two-class", action="store_true", help="ship the two-class model (boundary = unfinished)")
    parser.add_argument("--compare", action="store_true", help="train and report both variants")
    parser.add_argument("--dry-run", action="store_true", help="report only; write no weights")
    parser.add_argument("--out", default=str(WEIGHTS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    exs = E.examples(args.seed, measurement_keys())
    counts = defaultdict(int)
    for e in exs:
        counts[e.label] += 1
    print(f"{len(exs)} examples from {len({e.group for e in exs})} turn groups: {dict(counts)}")
    results = {}
    variants = [(CLASSES2, "two-class")] if args.two_class else [(CLASSES3, "three-class")]
    if args.compare:
        variants.append((CLASSES3, "three-class") if args.two_class else (CLASSES2, "two-class"))
    shipped = None
    for classes, name in variants:
        W, vocab, metrics = run(exs, classes, name)
        results[name] = metrics
        if shipped is None:
            shipped = (classes, name, W, vocab)
    classes, name, W, vocab = shipped
    weights = {f: [round(float(x), 4) for x in W[i]] for f, i in vocab.items() if np.abs(W[i]).max() >= 5e-4}
    info = {"trained_by": "data/turn_end/train.py", "variant": name, "seed": args.seed,
            "examples": len(exs), "features": len(weights), "held_out": results[name]["all"]}
    if not args.dry_run:
        Path(args.out).write_text(json.dumps({"format": FORMAT, "classes": classes, "weights": weights,
                                              "info": info}, separators=(",", ":")) + "\n", encoding="utf-8")
        print(f"\nwrote {args.out}: {name}, {len(weights)} features, "
              f"{Path(args.out).stat().st_size / 1e6:.2f} MB")
    print(f"{time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
