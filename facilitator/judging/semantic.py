"""Meaning-level alignment of a reply with the Sender's units, from sentence embeddings.

Each Sender unit (a clause: trigger, feeling, reason, request) is said back in the
Receiver's voice (I <-> you) and embedded; so is each clause of the reply. A unit is
covered in meaning when some reply clause, or two neighbouring clauses together, is
close to it; a reply clause is aligned when it is close to some unit (or two neighbouring
units). Word-level checks stay where they are (roles, negation, cue phrases): similarity
alone cannot tell "you feel ignored" from "I feel ignored".

Similarity is the cosine of mean-pooled paraphrase-MiniLM-L3-v2 vectors; the scale
below maps it to a 0..1 "covered" value (about 0.35 is unrelated talk on the same topic,
0.75 and above is the same thing in other words).
"""

from __future__ import annotations

from dataclasses import dataclass

from facilitator.judging.text import swap_person

LOW, HIGH = 0.35, 0.75  # cosine mapped to 0 and 1 of "covered in meaning"
ALIGNED = 0.5  # a reply clause this close to some unit is the Sender's content
UNRELATED = 0.3  # below this a reply clause has nothing of the Sender's
TOKEN_HIGH, TOKEN_LOW = 0.7, 0.5  # a unit's words found / a reply clause's words foreign
NOVEL = 0.5  # a reply word piece this far from every Sender word piece is new content


@dataclass
class Semantic:
    features: list[float]
    aligned: list[bool]  # per reply clause
    unit_cover: list[float]  # per Sender unit: max(word coverage, meaning coverage)
    novel: float = 0.0  # share of the reply's content word pieces with no close partner in the Sender's


def _spans(vectors, weights):
    """Each row, plus each pair of neighbours (weighted mean, unit length)."""
    import numpy as np

    rows = [v for v in vectors]
    for i in range(len(vectors) - 1):
        v = vectors[i] * weights[i] + vectors[i + 1] * weights[i + 1]
        rows.append(v / max(float(np.linalg.norm(v)), 1e-9))
    return np.vstack(rows) if rows else np.zeros((0, vectors.shape[1] if len(vectors.shape) > 1 else 384))


def _scaled(cos: float) -> float:
    return min(1.0, max(0.0, (cos - LOW) / (HIGH - LOW)))


def compare(embedder, units, r_clauses: list[str], lexical_share: list[float]) -> Semantic:
    """Semantic features for `structure.analyse` (units carry their word coverage)."""
    # Fragments of fewer than four words ('while we eat') are read with the clause before.
    groups: list[list[int]] = []
    for i, c in enumerate(r_clauses):
        if groups and len(c.split()) < 4:
            groups[-1].append(i)
        else:
            groups.append([i])
    if len(groups) > 1 and len(groups[0]) == 1 and len(r_clauses[0].split()) < 4:
        groups[1:2] = [groups[0] + groups[1]]
        groups = groups[1:]
    merged = [" ".join(r_clauses[i] for i in g) for g in groups]
    shares = [max(lexical_share[i] for i in g) for g in groups]
    result = _compare(embedder, units, merged, shares)
    aligned = [False] * len(r_clauses)
    for g, a in zip(groups, result.aligned):
        for i in g:
            aligned[i] = a
    result.aligned = aligned
    return result


def _compare(embedder, units, r_clauses: list[str], lexical_share: list[float]) -> Semantic:
    import numpy as np

    n_units, n_clauses = len(units), len(r_clauses)
    if not n_units or not n_clauses:
        cover = [u.coverage for u in units]
        return Semantic([0.0] * 7 + [0.0, 0.0, _mean(cover), min(cover, default=0.0), 0.0, 0.0, 1.0, 1.0, 0.0],
                        [False] * n_clauses, cover)
    unit_texts = [swap_person(u.text) for u in units]
    encoded = embedder.encode_full(unit_texts + list(r_clauses))
    vecs = np.vstack([e.vector for e in encoded])
    u_vec, c_vec = vecs[:n_units], vecs[n_units:]
    u_tok = [e.tokens for e in encoded[:n_units]]
    c_tok = [e.tokens for e in encoded[n_units:]]
    all_u = np.vstack(u_tok)
    all_c = np.vstack(c_tok)
    # Word-piece alignment (like BERTScore): each content token's best partner on the other side.
    if len(all_u) and len(all_c):
        pair = all_u @ all_c.T
        u_best, c_best = pair.max(axis=1), pair.max(axis=0)
    else:
        u_best, c_best = np.zeros(len(all_u)), np.zeros(len(all_c))
    recall, at = [], 0
    for t in u_tok:
        recall.append(float(u_best[at : at + len(t)].mean()) if len(t) else 1.0)
        at += len(t)
    precision, at = [], 0
    for t in c_tok:
        precision.append(float(c_best[at : at + len(t)].mean()) if len(t) else 1.0)
        at += len(t)
    u_w = np.array([max(1, len(set(u.content))) for u in units], dtype=np.float32)
    c_w = np.array([max(1, len(c.split())) for c in r_clauses], dtype=np.float32)

    c_spans = _spans(c_vec, c_w)
    u_spans = _spans(u_vec, u_w)
    sim_u = (u_vec @ c_spans.T).max(axis=1)  # each unit: best reply clause or pair
    # each reply clause: best unit (or pair of units), the clause read alone or together with
    # a neighbour, so a fragment ('while we eat') is judged with what it belongs to
    span_best = (c_spans @ u_spans.T).max(axis=1)
    sim_c = span_best[:n_clauses].copy()
    for i in range(n_clauses - 1):
        joint = span_best[n_clauses + i]
        sim_c[i] = max(sim_c[i], joint)
        sim_c[i + 1] = max(sim_c[i + 1], joint)

    sizes = u_w / u_w.sum()
    sem_mean = float((sim_u * sizes).sum())
    cover = [max(u.coverage, _scaled(float(s))) for u, s in zip(units, sim_u)]
    comb_cov = float(sum(c * w for c, w in zip(cover, sizes)))

    aligned = [bool(s >= ALIGNED) or share >= 0.34 for s, share in zip(sim_c, lexical_share)]
    cw = c_w / c_w.sum()
    novel = float(sum(w for s, share, w in zip(sim_c, lexical_share, cw) if s < UNRELATED and share < 0.34))

    u_mean = (u_vec * u_w[:, None]).sum(axis=0)
    c_mean = (c_vec * c_w[:, None]).sum(axis=0)
    whole = float(u_mean @ c_mean / max(float(np.linalg.norm(u_mean) * np.linalg.norm(c_mean)), 1e-9))

    recall_a = np.array(recall)
    tok_mean = float((recall_a * sizes).sum())
    features = [
        sem_mean,
        float(sim_u.min()),
        tok_mean,
        float(recall_a.min()),
        float((recall_a >= TOKEN_HIGH).mean()),
        min(precision),
        float(sum(w for p, w in zip(precision, cw) if p < TOKEN_LOW)),
        float((sim_u >= 0.6).mean()),
        float((sim_u >= 0.45).mean()),
        comb_cov,
        min(cover),
        sum(1 for c in cover if c >= 0.5) / len(cover),
        float(sim_c.min()),
        novel,
        float(sum(w for s, w in zip(sim_c, cw) if s < ALIGNED)),
        whole,
    ]
    novel_share = float((c_best < NOVEL).mean()) if len(c_best) else 0.0
    return Semantic(features, aligned, cover, novel_share)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0
