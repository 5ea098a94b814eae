"""A first, light judge: content-word overlap after the I<->you person swap."""

from __future__ import annotations

from facilitator.judging import Verdict
from facilitator.judging.text import content_stems, content_words, stem, words

MIRROR_OPENERS = ("what i hear you saying", "what i'm hearing", "if i got it", "let me see if i got")
CHECK_INS = ("did i get that", "did i get it", "did i get it all", "is that right", "is there more")


def _strip_frames(reply: str) -> str:
    text = " ".join(words(reply))
    for phrase in MIRROR_OPENERS + CHECK_INS:
        text = text.replace(phrase, " ")
    return text


class SimpleJudge:
    """Mirror check by the share of the Sender's content words the reply brings back."""

    def __init__(self, mirror_threshold: float = 0.75, partial_threshold: float = 0.4):
        self.mirror_threshold = mirror_threshold
        self.partial_threshold = partial_threshold

    def judge(self, kind: str, context: list[str], reply: str) -> Verdict:
        if kind in ("mirror", "summary"):
            return self._coverage(kind, " ".join(context), reply)
        if kind == "validation":
            said = " ".join(words(reply))
            ok = "make sense" in said and " but " not in f" {said} " and "because" in said
            return Verdict(kind, "valid" if ok else "not_valid", 1.0 if ok else 0.0)
        if kind == "empathy":
            said = " ".join(words(reply))
            ok = any(w in said for w in ("feel", "feeling", "imagine"))
            return Verdict(kind, "empathic" if ok else "not_empathic", 1.0 if ok else 0.0)
        if kind == "sender_statement":
            said = f" {' '.join(words(reply))} "
            blaming = any(p in said for p in (" you always ", " you never ", " your fault "))
            return Verdict(kind, "blaming" if blaming else "safe", 0.0 if blaming else 1.0)
        raise ValueError(f"unknown judgement kind: {kind!r}")

    def _coverage(self, kind: str, sender: str, reply: str) -> Verdict:
        wanted = []
        seen = set()
        for w in content_words(sender):
            s = stem(w)
            if s not in seen:
                seen.add(s)
                wanted.append((s, w))
        got = content_stems(_strip_frames(reply))
        missing = [w for s, w in wanted if s not in got]
        score = 1.0 - len(missing) / len(wanted) if wanted else 1.0
        intruding = [w for w in content_words(_strip_frames(reply)) if stem(w) not in seen]
        if score >= self.mirror_threshold:
            label = "mirror" if kind == "mirror" else "complete"
        elif score >= self.partial_threshold:
            label = "partial"
        else:
            label = "not_mirror" if kind == "mirror" else "not_summary"
        return Verdict(kind, label, round(score, 3), missing, intruding)
