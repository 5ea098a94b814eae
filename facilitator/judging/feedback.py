"""Spoken coaching for a judgement that did not pass, built from prompts/feedback.toml.

`feedback_text(verdict, sender_name, receiver_name)` returns one short paragraph to be
spoken aloud, or None when the step passed. No sentence is written here: the templates
live in prompts/feedback.toml and this module only picks and fills them.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from facilitator import prompts
from facilitator.judging import Verdict, lexicon
from facilitator.judging.text import stem, words

PROMPTS = prompts.resource("feedback.toml")
_LEAD_WORDS = {"and", "but", "so", "like", "because", "cause", "since", "um", "uh", "ok", "okay", "yeah"}


@lru_cache(maxsize=4)
def load_templates(path: Path = PROMPTS) -> dict[str, dict[str, str]]:
    with path.open("rb") as f:
        return tomllib.load(f)


def fixed_sentences(names: dict[str, str], templates: dict | None = None) -> list[str]:
    """The coaching's sentences that do not depend on the verdict ("Thank you, Sam.",
    "Would you like to try again?", "You got some of it."), for both partners as the
    Receiver: rendered ahead, so that coaching starts as soon as the judge has spoken."""
    t = templates or load_templates()
    fixed = [t["common"]["thanks"], t["common"]["retry"], t["mirror"]["partial"],
             t["summary"]["partial"]]
    out: list[str] = []
    for sender, receiver in ((names["A"], names["B"]), (names["B"], names["A"])):
        for template in fixed:
            text = template.format(sender=sender, receiver=receiver)
            if text not in out:
                out.append(text)
    return out


def _part(text: str, max_words: int = 14) -> str:
    """A missed unit, trimmed to be spoken: no leading 'and', not too long."""
    tokens = words(text)
    while tokens and tokens[0] in _LEAD_WORDS:
        tokens = tokens[1:]
    return " ".join(tokens[:max_words])


def _feelings(text: str) -> list[str]:
    return [w for w in words(text) if stem(w) in lexicon.FEELING_STEMS or w in lexicon.FEELINGS]


# Reasons that say something was left out, answered with the kind's own sentences.
_LEFT_OUT = {"dropped_feeling": ("missing_feeling", "missing_part"), "dropped_point": ("missing_part",)}


def _named(verdict: Verdict, t: dict[str, dict[str, str]], section: dict[str, str],
           fill: dict[str, str]) -> str | None:
    """The sentence naming what went wrong (`verdict.reason`, quoting `verdict.detail`), or
    None when the reason has no sentence: then the verdict's missing / intrusions speak."""
    reason = verdict.reason
    detail = {k: str(v) for k, v in verdict.detail.items()}
    reasons = t.get("reasons", {})
    values = {**detail, **fill}
    values["stay"] = section.get("stay", "").format(**fill)
    if reason in _LEFT_OUT:
        keys = [k for k in _LEFT_OUT[reason] if k in section]
        table = section
    else:
        key = f"negation_{detail.get('which', 'dropped')}" if reason == "negation" else reason
        keys, table = [key, f"{reason}_general"], reasons
    for key in keys:
        if key in table:
            try:
                return table[key].format(**values).strip()
            except (KeyError, IndexError, ValueError):
                continue       # a piece it quotes is missing: the general sentence, or none
    return None


def feedback_text(verdict: Verdict, sender_name: str, receiver_name: str,
                  templates: dict[str, dict[str, str]] | None = None) -> str | None:
    """The coaching sentence for a verdict that did not pass; None when it passed."""
    if verdict.passed:
        return None
    t = templates or load_templates()
    fill = {"sender": sender_name, "receiver": receiver_name}
    common = t["common"]
    kind = verdict.kind
    said: list[str] = []
    if kind in ("mirror", "summary"):
        section = t[kind]
        said.append(common["thanks"].format(**fill))
        named = _named(verdict, t, section, fill)
        if verdict.label == "partial" and (verdict.reason in _LEFT_OUT if named else not verdict.intrusions):
            said.append(section["partial"].format(**fill))
        if named:
            said.append(named)
        elif verdict.intrusions and verdict.label != "partial":
            added = _part(verdict.intrusions[0])
            said.append(section["added"].format(added=added, **fill))
        elif verdict.missing:
            first = verdict.missing[0]
            feelings = _feelings(first)
            if feelings and "missing_feeling" in section:
                said.append(section["missing_feeling"].format(
                    feeling=common["list_and"].join(feelings[:2]), **fill))
            else:
                said.append(section["missing_part"].format(part=_part(first), **fill))
        elif kind == "mirror" and verdict.label == "not_mirror":
            said.append(section["role"].format(**fill))
        else:
            said.append(section["general"].format(**fill))
        said.append(common["retry"].format(**fill))
    elif kind in ("validation", "empathy"):
        section = t[kind]
        said.append(common["thanks"].format(**fill))
        reason = next((r for r in verdict.intrusions if r in section), "general")
        said.append(section[reason].format(**fill))
        said.append(common["retry"].format(**fill))
    elif kind == "sender_statement":
        section = t[kind]
        words_heard = verdict.intrusions[0] if verdict.intrusions else "blame"
        said.append(section["blaming"].format(words=f'"{words_heard}"', **fill))
        said.append(section["coach"].format(**fill))
    else:
        return None
    return " ".join(said)
