"""Train the judge's learned heads and write facilitator/judging/weights.json.

Usage: .venv/bin/python data/judging/train_judge.py [--with-shared] [--cv]

Trains on our own hand-written cases (data/judging/*_cases.txt) minus the held-out
groups (every HOLDOUT_EVERY-th Sender turn), plus simple augmentations (speech-recognition
slips, dropped punctuation, and role flips made by undoing the person swap of a good
mirror). --with-shared also trains on ../shared/data/*.jsonl when present. Deterministic.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from facilitator.judging.cases import read_any, read_txt  # noqa: E402
from facilitator.judging.head import WEIGHTS_PATH, fit  # noqa: E402
from facilitator.judging.structure import FEATURE_NAMES, analyse, strip_frame  # noqa: E402
from facilitator.judging.text import swap_person  # noqa: E402

DATA = Path(__file__).resolve().parent
SHARED = ROOT.parent / "shared" / "data"
HOLDOUT_EVERY = 4
CLASSES = {"mirror": ["mirror", "partial", "not_mirror"], "summary": ["complete", "partial", "not_summary"]}
TO_SUMMARY = {"mirror": "complete", "partial": "partial", "not_mirror": "not_summary"}


def own_cases() -> list[dict]:
    return read_txt(DATA / "mirror_cases.txt") + read_txt(DATA / "steps_cases.txt")


def is_heldout(case: dict) -> bool:
    """Whole Sender turns go to the held-out set, never single replies."""
    number = int(case["group"].rsplit("-", 1)[-1].lstrip("b"))
    return number % HOLDOUT_EVERY == 0


def augment(case: dict) -> list[dict]:
    """Extra training rows from one labelled mirror (never used for evaluation)."""
    out = []
    reply = case["reply"]
    noisy = re.sub(r"[.,?!]", "", reply)
    noisy = noisy.replace("you're", "your").replace("did i get that", "did i get mad")
    noisy = re.sub(r"\btwo\b", "to", noisy)
    if noisy != reply:
        out.append({**case, "reply": "um " + noisy, "id": case["id"] + "-asr"})
    if case["label"] == "mirror":
        body, _, _ = strip_frame(reply)
        flipped = swap_person(body)
        if flipped != body and len(flipped.split()) > 3:
            out.append({**case, "reply": "so " + flipped, "label": "not_mirror", "id": case["id"] + "-flip"})
    return out


def combine(cases: list[dict]) -> list[dict]:
    """A good or partial mirror with a bad reply tacked on is not a mirror (defense, advice...)."""
    out = []
    by_group: dict[str, list[dict]] = {}
    for c in cases:
        by_group.setdefault(c["group"], []).append(c)
    for group in by_group.values():
        goods = [c for c in group if c["label"] in ("mirror", "partial")]
        bads = [c for c in group if c["label"] == "not_mirror"]
        for i, good in enumerate(goods):
            for j, bad in enumerate(bads):
                if (i + j) % 2:
                    continue
                body, _, _ = strip_frame(bad["reply"])
                if analyse(" . ".join(bad["context"]), bad["reply"]).features[14] > 0.3:
                    continue  # a role flip: nothing to tack on
                reply = re.sub(r"[.?]? *(did i get (that|it)|is that right)$", "", good["reply"])
                out.append({**good, "reply": f"{reply}, {body}", "label": "not_mirror",
                            "id": f"{good['id']}+{bad['id']}"})
    return out


def rows_for(cases: list[dict], kind: str) -> tuple[list[list[float]], list[str]]:
    xs, ys = [], []
    for c in cases:
        label = c["label"]
        if c["kind"] == "mirror" and kind == "summary":
            label = TO_SUMMARY[label]
        elif c["kind"] != kind:
            continue
        sender = " . ".join(t.strip().rstrip(".") for t in c["context"])
        xs.append(analyse(sender, c["reply"]).features)
        ys.append(label)
    return xs, ys


def train(cases: list[dict]) -> dict:
    mirrors = [c for c in cases if c["kind"] == "mirror"]
    augmented = mirrors + [a for c in mirrors for a in augment(c)] + combine(mirrors)[::3]
    heads = {}
    x, y = rows_for(augmented, "mirror")
    heads["mirror"] = fit(x, y, CLASSES["mirror"]).to_dict()
    summaries = [c for c in cases if c["kind"] == "summary"]
    xs, ys = rows_for(summaries + summaries + augmented, "summary")
    heads["summary"] = fit(xs, ys, CLASSES["summary"]).to_dict()
    return {"features": list(FEATURE_NAMES), "heads": heads}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--with-shared", action="store_true", help="also train on ../shared/data")
    parser.add_argument("--all", action="store_true", help="also train on our held-out groups")
    parser.add_argument("--out", default=str(WEIGHTS_PATH))
    args = parser.parse_args()
    cases = [c for c in own_cases() if args.all or not is_heldout(c)]
    if args.with_shared and SHARED.exists():
        for path in sorted(SHARED.glob("*.jsonl")):
            cases += read_any(path)
    model = train(cases)
    model["trained_on"] = {"own_cases": "all" if args.all else "train groups", "shared": bool(args.with_shared)}
    Path(args.out).write_text(json.dumps(model, indent=1) + "\n")
    print(f"wrote {args.out} from {len(cases)} cases")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
