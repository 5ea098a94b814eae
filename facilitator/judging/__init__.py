"""The judge room: decides from transcripts whether a dialogue step was done well.

Every judgement goes through one narrow interface, `Judge.judge(kind, context, reply)`,
so the live loop does not care how a verdict is reached. `kind` is one of KINDS;
`context` holds what the reply answers (for a mirror: the Sender's turn; for a summary:
all the Sender's turns of the round); `reply` is the turn being judged.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Protocol

KINDS = ("mirror", "summary", "validation", "empathy", "sender_statement")

PASSING_LABELS = {
    "mirror": {"mirror"},
    "summary": {"complete"},
    "validation": {"valid"},
    "empathy": {"empathic"},
    "sender_statement": {"safe"},
}


@dataclass
class Verdict:
    kind: str
    label: str
    score: float
    missing: list[str] = field(default_factory=list)
    intrusions: list[str] = field(default_factory=list)
    # What is wrong, when it is known: one of `cases.REASONS` or "" (see `explain.py`), and
    # the pieces the spoken feedback quotes, e.g. {"said": ..., "heard": ...}.
    reason: str = ""
    detail: dict[str, str] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.label in PASSING_LABELS.get(self.kind, set())

    def to_dict(self) -> dict:
        return asdict(self)


class Judge(Protocol):
    def judge(self, kind: str, context: list[str], reply: str) -> Verdict: ...


def default_judge(config=None) -> Judge:
    """The judge the live loop uses unless told otherwise.

    `config`: the `[judge]` section (`facilitator.config.JudgeConfig`): which judge
    (`model`: the cross-encoder, or the structured judge with its paraphrase model) and how
    many threads; without it, the defaults. The environment variables
    FACILITATOR_EMBEDDING_MODEL and FACILITATOR_EMBEDDING_THREADS override both. When the
    cross-encoder's files are missing or unreadable, the structured judge stands in (a
    warning names the problem and the fix)."""
    import logging

    from facilitator.config import JudgeConfig
    from facilitator.judging import embed
    from facilitator.judging.structured import StructuredJudge

    config = config or JudgeConfig()
    embed.configure(config.embedding_model, config.embedding_threads)
    if config.model == "cross":
        from facilitator.judging.cross import CrossJudge, CrossJudgeMissing

        try:
            return CrossJudge(threads=embed.threads_setting())
        except (CrossJudgeMissing, embed.EmbeddingUnavailable) as error:
            logging.getLogger("facilitator").warning(
                "judge: %s; judging with the structured judge instead (reinstall facilitator, "
                "or set [judge] model = \"structured\" to silence this)", error)
    return StructuredJudge()
