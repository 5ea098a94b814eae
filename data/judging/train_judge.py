"""Train the judge's learned heads and write facilitator/judging/weights.json.

Usage: .venv/bin/python data/judging/train_judge.py [--with-shared] [--all] [--cv]

Trains on our own hand-written cases (data/judging/*_cases.txt) minus the held-out
groups (every HOLDOUT_EVERY-th Sender turn of each file), plus simple augmentations
(speech-recognition slips, dropped punctuation, role flips made by undoing the person
swap of a good mirror, a good mirror with a defense tacked on). --with-shared also trains
on ../shared/data/*.jsonl when present (the shipped weights do not: those files are kept
to measure on). --cv prints a grouped 4-fold cross-validation of the mirror head on the
training cases instead (whole Sender turns per fold) and writes nothing.

Two heads per kind are written: `mirror` / `summary` over all features, including the
paraphrase model's (facilitator/judging/semantic.py; the mirror head blends boosted
trees with logistic regression), and `mirror_lexical` / `summary_lexical` over the
word-level features only, used when the model is missing. The fitting is in fit_head.py
beside this file (numpy only); the installed package only reads weights.json.
Deterministic: the same cases give the same weights.json.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # fit_head, beside this file

from facilitator.judging.cases import read_any, read_txt  # noqa: E402
from facilitator.judging.head import WEIGHTS_PATH  # noqa: E402
from facilitator.judging.embed import get_embedder  # noqa: E402
from facilitator.judging.structure import (  # noqa: E402
    FEATURE_NAMES,
    SEMANTIC_FEATURE_NAMES,
    analyse,
    strip_frame,
)
from facilitator.judging.text import swap_person  # noqa: E402
from fit_head import fit, fit_blend  # noqa: E402

DATA = Path(__file__).resolve().parent
SHARED = ROOT.parent / "shared" / "data"
HOLDOUT_EVERY = 4
CLASSES = {"mirror": ["mirror", "partial", "not_mirror"], "summary": ["complete", "partial", "not_summary"]}
TO_SUMMARY = {"mirror": "complete", "partial": "partial", "not_mirror": "not_summary"}


def case_files() -> list[Path]:
    return sorted(DATA.glob("*_cases.txt"))


def own_cases() -> list[dict]:
    return [c for path in case_files() for c in read_txt(path)]


def case_file(case: dict) -> str:
    """The name of the case file a case comes from (its group is "<file stem>-<n>")."""
    return case["group"].rsplit("-", 1)[0]


def is_heldout(case: dict) -> bool:
    """Whole Sender turns go to the held-out set, never single replies."""
    number = int(case["group"].rsplit("-", 1)[-1].lstrip("b"))
    return number % HOLDOUT_EVERY == 0


CHECK_INS = ("did i get that", "is that right", "did i get it", "did i get all of that", "is that it")
OPENERS = ("so ", "what i hear is ", "so what i'm hearing is ", "it sounds like ", "ok so ", "")
_CHECKIN_END = re.compile(
    r"[.,?! ]*\b(did i get (?:that|it(?: all)?|mad|everything|all (?:of )?(?:that|it))(?: right)?"
    r"|is that (?:right|it|correct|everything|all))[.?! ]*$", re.I)
_OPENER_START = re.compile(
    r"^(?:ok(?:ay)?,? |um,? )?(?:so,? )?(?:what i(?:'m| am)? (?:hear|hearing)(?: you say(?:ing)?)? is(?: that)?,? "
    r"|it sounds like |if i understand you,? |i'm hearing )?", re.I)


def _pick(case: dict, salt: str, options: tuple[str, ...]) -> str:
    return options[zlib.crc32((case["id"] + salt).encode()) % len(options)]


def restyle(case: dict) -> dict | None:
    """The same reply in another writer's frame: check-in and opener swapped for others.

    Our own mirrors tend to end with "did i get that" and our partials not; other writers
    differ, so the head must not learn the frame. Same label, deterministic choice.
    """
    reply = case["reply"].strip()
    body = _CHECKIN_END.sub("", reply)
    had_checkin = body != reply
    body = _OPENER_START.sub("", body, count=1).strip(" ,")
    if len(body.split()) < 2:
        return None
    opener = _pick(case, "o", OPENERS)
    checkin = "" if had_checkin else ". " + _pick(case, "c", CHECK_INS)
    new = f"{opener}{body}{checkin}"
    if new == reply:
        return None
    return {**case, "reply": new, "id": case["id"] + "-style"}


def augment(case: dict) -> list[dict]:
    """Extra training rows from one labelled mirror (never used for evaluation)."""
    out = []
    restyled = restyle(case)
    if restyled is not None:
        out.append(restyled)
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
                if analyse(" . ".join(bad["context"]), bad["reply"]).features[FEATURE_NAMES.index("role_flip")] > 0.3:
                    continue  # a role flip: nothing to tack on
                reply = re.sub(r"[.?]? *(did i get (that|it)|is that right)$", "", good["reply"])
                out.append({**good, "reply": f"{reply}, {body}", "label": "not_mirror",
                            "id": f"{good['id']}+{bad['id']}"})
    return out


_MIRROR_START = re.compile(r"^(?:ok(?:ay)? |um )?(?:so|what i|you said|it sounds like|i hear)\b")


def defence_tail(reply: str) -> str | None:
    """The Receiver's own defence in an N[defend] reply: what follows the last ", but" of a
    reply that starts as a mirror, or the whole reply when it does not start as one."""
    text = reply.strip().lower()
    if _MIRROR_START.match(text):
        head, sep, tail = text.rpartition(", but ")
        return f"but {tail}" if sep and len(tail.split()) >= 3 else None
    return text if len(text.split()) >= 4 else None


def defences_after_mirrors(cases: list[dict]) -> list[dict]:
    """A whole, fair mirror that then turns into the Receiver's defence is not a mirror.

    The hand-written defences mostly follow a short start ("so i turn away, but ..."); the
    judge must also fail one after a mirror that got nearly everything right. Each group's
    N[defend] tails go after one of the group's full mirrors (check-in dropped), in turn."""
    out = []
    by_group: dict[str, list[dict]] = {}
    for c in cases:
        by_group.setdefault(c["group"], []).append(c)
    for group in by_group.values():
        mirrors = [c for c in group if c["label"] == "mirror"]
        tails = [(c, defence_tail(c["reply"])) for c in group if c.get("reason") == "defend"]
        for n, (bad, tail) in enumerate((b, t) for b, t in tails if t):
            if not mirrors:
                break
            good = mirrors[n % len(mirrors)]
            body = _CHECKIN_END.sub("", good["reply"].strip()).rstrip(" ,.")
            glue = ", " if tail.startswith("but ") else _pick(bad, "g", (". ", ", ", " ... "))
            out.append({**good, "reply": f"{body}{glue}{tail}", "label": "not_mirror",
                        "reason": "defend", "id": f"{good['id']}+{bad['id']}-defence"})
    return out


# Where a whole mirror or summary divides into pieces that each say one thing: after a
# sentence end or a comma (with its "and"), and before "and" + a new subject.
_PIECE_BREAK = re.compile(r"(?<=[.;!?])\s+|,\s+(?=\w)|\s+(?=and (?:then )?(?:i|you|we|he|she|they|it|my|your|the|that)\b)")
# A piece that narrows or turns what comes before it ("..., just not this year", "..., unless
# ...") cannot be left out without changing what was said; nor a piece next to a negated one
# ("you're not saying you don't want kids, you're saying ...").
_QUALIFIER = re.compile(r"^(?:and |but |so )?(?:just |only |even )?(?:not|never|no|nothing|unless|except|"
                        r"only|without|as long as|although|though|even|instead|rather)\b")
_LEAD = re.compile(
    r"^(?:ok(?:ay)?,? |um,? )?(?:so,? )?(?:what i(?:'m| am)? (?:hear|heard|hearing)(?: you say(?:ing)?)?"
    r"(?: all together| overall)? is(?: that)?,?|it sounds like|let me see[^.]*\.|if i (?:got|understand)[^,]*,"
    r"|(?:all together|putting it (?:all )?together|in all|overall),?)?\s*")
_NEGATED = re.compile(r"\b(?:not|never|no|nothing|nobody)\b|n't\b")
# A piece that only sets the scene ("so when the kids act up", "even when i say i'm fine")
# must keep the piece after it.
_SCENE = re.compile(r"^(?:(?:ok(?:ay)? )?so,? |what i(?:'m)? hear(?:ing)?(?: overall)? is,? |let me see[^.]*\. )?"
                    r"(?:even )?(?:when|whenever|if|every time|each time|since|after|before|because|while|once)\b")


def _pieces(body: str) -> list[str]:
    """The body's pieces, each starting with what joined it to the one before (", ", " "
    ...); a piece of fewer than three words goes with the next ("so, um, you ...")."""
    cuts = [0] + [m.start() for m in _PIECE_BREAK.finditer(body)] + [len(body)]
    parts: list[str] = []
    carry = ""
    for lo, hi in zip(cuts, cuts[1:]):
        piece = carry + body[lo:hi]
        if len(piece.strip(" ,").split()) < 3 and hi < len(body):
            carry = piece
            continue
        parts.append(piece)
        carry = ""
    return parts


def _droppable(pieces: list[str], index: int) -> bool:
    """Whether the piece can be left out and leave what remains true (a piece of three
    words is too often a qualifier: "but privately", "me included")."""
    dropped, before = pieces[index].strip(" ,.").lower(), pieces[index - 1].strip(" ,.").lower()
    if index == 1 and len(_LEAD.sub("", before, count=1).split()) < 3:
        return False     # the first piece is only the lead-in ("so putting it together")
    near = " ".join(pieces[max(0, index - 2):index]).lower()
    return not (len(dropped.split()) < 4 or _QUALIFIER.match(dropped) or _NEGATED.search(dropped)
                or _NEGATED.search(near) or _SCENE.match(before))


def partials_from_wholes(cases: list[dict]) -> list[dict]:
    """A whole mirror (or complete summary) with one of its pieces left out is a partial:
    faithful, only incomplete. The hand-written partials are mostly short; left to them and
    to the augmentations' many not-mirrors, the judge took a long reply that missed one
    thing for whole and a short faithful one for not a mirror. One row per whole reply of
    two pieces or more (the piece to leave out picked from its id, never the first), none
    where leaving a piece out could change what is said: a piece that qualifies the one
    before it, a piece next to a negated one, or the piece after a scene-setting "when ...".
    The check-in stays as the reply had it."""
    out = []
    for case in cases:
        if case["label"] not in ("mirror", "complete"):
            continue
        reply = case["reply"].strip()
        body = _CHECKIN_END.sub("", reply).rstrip(" ,.")
        checkin = reply[len(body):].strip(" ,.")
        pieces = _pieces(body)
        choices = [i for i in range(1, len(pieces)) if _droppable(pieces, i)]
        if not choices:
            continue
        drop = choices[zlib.crc32(case["id"].encode()) % len(choices)]
        kept = pieces[:drop] + pieces[drop + 1:]
        text = "".join(kept).strip(" ,")
        if checkin:
            text = f"{text}. {checkin}"
        out.append({**case, "reply": text, "label": "partial", "reason": "dropped_point",
                    "id": case["id"] + "-part"})
    return out


_FEATURES: dict[tuple[str, str, bool], list[float]] = {}


def features(case: dict, embedder) -> list[float]:
    sender = " . ".join(t.strip().rstrip(".") for t in case["context"])
    key = (sender, case["reply"], embedder is not None)
    if key not in _FEATURES:
        _FEATURES[key] = analyse(sender, case["reply"], embedder).features
    return _FEATURES[key]


def rows_for(cases: list[dict], kind: str, embedder=None) -> tuple[list[list[float]], list[str]]:
    xs, ys = [], []
    for c in cases:
        label = c["label"]
        if c["kind"] == "mirror" and kind == "summary":
            label = TO_SUMMARY[label]
        elif c["kind"] != kind:
            continue
        xs.append(features(c, embedder))
        ys.append(label)
    return xs, ys


def training_rows(cases: list[dict]) -> tuple[list[dict], list[dict]]:
    """(mirror rows, summary rows), each with their augmentations, for one training set.

    The summary head learns from summaries only: a summary spans several turns, and
    single-turn mirrors (ten times as many) pulled it toward their own habits.
    """
    mirrors = [c for c in cases if c["kind"] == "mirror"]
    augmented = mirrors + [a for c in mirrors for a in augment(c)] + combine(mirrors)[::3]
    summaries = [c for c in cases if c["kind"] == "summary"]
    if not summaries:  # no summary cases at all: mirrors stand in (mapped to summary labels)
        return augmented, augmented
    return augmented, summaries + [a for c in summaries for a in augment(c)]


def train(cases: list[dict], embedder="auto") -> dict:
    """Fit every head; `embedder` "auto" loads the paraphrase model (None: word-level only)."""
    if embedder == "auto":
        embedder = get_embedder()
    mirror_rows, summary_rows = training_rows(cases)
    heads = {}
    names = list(FEATURE_NAMES)
    # Mirror with the paraphrase model: boosted trees blended with logistic regression over
    # all features. Without it (the fallback) and for summaries (few cases): logistic
    # regression alone, a few numbers per class.
    for suffix, emb, learn in (("", embedder, fit_blend), ("_lexical", None, fit)):
        if suffix == "" and emb is None:
            continue
        cols = names + list(SEMANTIC_FEATURE_NAMES) if emb is not None else names
        x, y = rows_for(mirror_rows, "mirror", emb)
        heads["mirror" + suffix] = learn(x, y, CLASSES["mirror"], names=cols).to_dict()
        xs, ys = rows_for(summary_rows, "summary", emb)
        heads["summary" + suffix] = fit(xs, ys, CLASSES["summary"], names=cols).to_dict()
    return {"features": names, "semantic_features": list(SEMANTIC_FEATURE_NAMES), "heads": heads}


def cross_validate(cases: list[dict], folds: int = 4) -> None:
    """Grouped k-fold on the mirror cases: whole Sender turns stay on one side."""
    from facilitator.judging.head import heads_from_model
    from facilitator.judging.structured import StructuredJudge

    embedder = get_embedder()
    mirrors = [c for c in cases if c["kind"] == "mirror"]
    number = {g: i for i, g in enumerate(dict.fromkeys(c["group"] for c in mirrors))}
    gold, pred = [], []
    for k in range(folds):
        train_part = [c for c in mirrors if number[c["group"]] % folds != k]
        test_part = [c for c in mirrors if number[c["group"]] % folds == k]
        judge = StructuredJudge(heads_from_model(train(train_part, embedder)), embedder)
        gold += [c["label"] for c in test_part]
        pred += [judge.judge("mirror", c["context"], c["reply"]).label for c in test_part]

    def macro_f1(g: list[str], p: list[str], labels: list[str]) -> float:
        f1 = [2 * sum(a == b == lab for a, b in zip(g, p))
              / max(1, sum(a == lab for a in g) + sum(b == lab for b in p)) for lab in labels]
        return sum(f1) / len(f1)

    binary = [("pass" if x == "mirror" else "fail") for x in gold], [("pass" if x == "mirror" else "fail") for x in pred]
    print(f"mirror {folds}-fold grouped CV on {len(mirrors)} cases "
          f"({'with' if embedder else 'without'} the paraphrase model): "
          f"3-class macro-F1 {macro_f1(gold, pred, CLASSES['mirror']):.3f}, "
          f"mirror vs not {macro_f1(*binary, ['pass', 'fail']):.3f}")


def dumps(model: dict) -> str:
    """weights.json text: one line per head (trees are long), the rest readable."""
    lines = ["{"]
    for key, value in model.items():
        if key == "heads":
            lines.append(' "heads": {')
            items = list(value.items())
            for i, (name, head) in enumerate(items):
                comma = "," if i < len(items) - 1 else ""
                lines.append(f"  {json.dumps(name)}: {json.dumps(head, separators=(',', ':'))}{comma}")
            lines.append(" },")
        else:
            lines.append(f" {json.dumps(key)}: {json.dumps(value)},")
    lines[-1] = lines[-1].rstrip(",")
    return "\n".join(lines) + "\n}\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--with-shared", action="store_true", help="also train on ../shared/data")
    parser.add_argument("--all", action="store_true", help="also train on our held-out groups")
    parser.add_argument("--out", default=str(WEIGHTS_PATH))
    parser.add_argument("--cv", action="store_true", help="cross-validate instead of writing weights")
    args = parser.parse_args()
    cases = [c for c in own_cases() if args.all or not is_heldout(c)]
    if args.with_shared and SHARED.exists():
        for path in sorted(SHARED.glob("*.jsonl")):
            cases += read_any(path)
    if args.cv:
        cross_validate(cases)
        return 0
    model = train(cases)
    if get_embedder() is None:
        print("the paraphrase model is not available: writing word-level heads only", file=sys.stderr)
    model["trained_on"] = {"own_cases": "all" if args.all else "train groups", "shared": bool(args.with_shared)}
    Path(args.out).write_text(dumps(model))
    print(f"wrote {args.out} from {len(cases)} cases")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
