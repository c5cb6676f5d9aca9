"""Opposition between two *narratives*, not between two sentences.

Comparing only the two central hypotheses fails in both directions: two documents on opposite
sides of one question often state their theses in words that share little ("tags protect
children" vs "tags treat pupils like cattle"), and one noisy sentence pair can make unrelated or
same-side documents look opposed. An SNO carries more than its hypothesis, so the opposition of
two SNOs ``A`` and ``B`` uses all of it (docs/opposition.md has the rationale and the numbers):

1. **Statements.** ``A``'s hypothesis and up to ``max_claims_per_side`` of its claims, likewise
   for ``B``. Of all cross pairs, the hypothesis pair plus the ``statement_pairs − 1`` most
   topic-similar ones are judged — similar statements are the ones that can contradict each
   other, and the cap keeps the number of NLI pairs per candidate bounded.
2. **Per statement pair** ``d = max(p_contra) − max(p_entail)`` over both directions: in
   [−1, 1], negative when the two statements agree, so same-side documents are pushed *down*.
3. **Robust aggregation.** ``statements = w_h · d_hyp + (1 − w_h) · mean(top-k d of the other
   pairs)`` — a top-k mean, not a max, so one noisy pair cannot decide alone.
4. **Stance toward shared evidence.** For each shared evidence item (identical key or the same
   fact, up to ``max_shared_evidence``), each rendering of it is a premise; the stance of a side
   is ``p_entail − p_contra`` of its statements most similar to the premise. The item opposes
   the pair when one side is entailed and the other contradicted: ``min(s_A⁺, s_B⁻) + min(s_A⁻, s_B⁺)``.
   It can only *add* opposition: ``1 − (1 − statements⁺)(1 − w_e · evidence)``.
5. **Self contrast** (opt-in; pairs that share no evidence). The statement score counts only as
   far as the two narratives contradict each other *more than each contradicts itself* (mean ``d`` of the judged pairs minus the mean
   ``d`` of each side's own statement pairs, ramp ``contrast_gate``; :mod:`cns.metrics.self_contrast`):
   the model reads two points of one position as partly contradictory, and a document's own
   statements measure how much.
6. **Topic gate.** Texts on different topics are "neutral" to an NLI model at best and noise at
   worst (the shipped model calls many unrelated pairs contradictory); opposition is multiplied
   by a ramp of the topic similarity (the cosine of the two statement centroids; the hypothesis
   cosine only when there is no embedder) from ``topic_gate[0]`` (0) to ``topic_gate[1]`` (1), so
   narratives about different questions are never opposed.

Every step is symmetric in ``A`` and ``B`` (ties are broken by text, not position), the result
is in [0, 1], and all NLI pairs of a batch go to the model in one ``predict`` call.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from cns.config.settings import ChiralityConfig
from cns.metrics.self_contrast import contrast, contrast_gate, self_level, self_pairs
from cns.ports import CONTRADICTION, ENTAILMENT, Embedder, NLIModel

if TYPE_CHECKING:
    from cns.core.sno import StructuredNarrativeObject

Array = NDArray[np.float64]
SharedTexts = Sequence[tuple[str, str]]
_WORD = re.compile(r"[a-z0-9]+")
_PREMISE_STATEMENTS = 2  # statements per side judged against each rendering of a shared item


@dataclass
class NarrativeOpposition:
    """Scores of a batch of SNO pairs, the NLI pairs it cost, and per-pair terms (for reports)."""

    scores: Array
    nli_pairs: int
    details: list[dict[str, Any]] = field(default_factory=list)


def statements(sno: StructuredNarrativeObject, max_claims: int) -> list[str]:
    """The hypothesis first, then up to ``max_claims`` distinct claim texts in insertion order."""
    out = [sno.central_hypothesis]
    seen = {sno.central_hypothesis.strip().lower()}
    for claim in sno.claims():
        if len(out) > max_claims:
            break
        text = claim.content.strip()
        if text and text.lower() not in seen:
            seen.add(text.lower())
            out.append(text)
    return out


def key_shared_texts(
    sno_a: StructuredNarrativeObject, sno_b: StructuredNarrativeObject
) -> list[tuple[str, str]]:
    """``(A's text, B's text)`` of each source both cite, by canonical key (sorted, so deterministic)."""
    items_a = {item.key: item for item in sno_a.evidence_set if item.is_source}
    items_b = {item.key: item for item in sno_b.evidence_set if item.is_source}
    return [(items_a[k].content, items_b[k].content) for k in sorted(items_a.keys() & items_b.keys())]


def topic_gate(similarity: float, low: float, high: float) -> float:
    """0 below ``low``, 1 above ``high``, linear in between."""
    return float(min(1.0, max(0.0, (similarity - low) / (high - low))))


class _Similarity:
    """Cosine similarity of texts by the embedder, or word overlap when there is none."""

    def __init__(self, texts: list[str], embedder: Embedder | None) -> None:
        self.row = {t: i for i, t in enumerate(texts)}
        self.vectors: NDArray[np.float64] | None = None
        self.words: list[frozenset[str]] = []
        if embedder is not None and texts:
            raw = np.asarray(embedder.encode(texts), dtype=np.float64)
            norms = np.linalg.norm(raw, axis=1, keepdims=True)
            self.vectors = np.divide(raw, norms, out=np.zeros_like(raw), where=norms > 0)
        else:
            self.words = [frozenset(_WORD.findall(t.lower())) for t in texts]

    def __call__(self, a: str, b: str) -> float:
        i, j = self.row[a], self.row[b]
        if self.vectors is not None:
            # elementwise product then sum: bit-identical for (a, b) and (b, a)
            return round(float(np.sum(self.vectors[i] * self.vectors[j])), 6)
        wa, wb = self.words[i], self.words[j]
        union = len(wa | wb)
        return round(len(wa & wb) / union, 6) if union else 0.0

    def centroid_cosine(self, a: list[str], b: list[str]) -> float | None:
        if self.vectors is None:
            return None
        ca = self.vectors[[self.row[t] for t in a]].mean(axis=0)
        cb = self.vectors[[self.row[t] for t in b]].mean(axis=0)
        norm = float(np.linalg.norm(ca) * np.linalg.norm(cb))
        return float(np.sum(ca * cb) / norm) if norm > 0 else 0.0


def _sym_key(sim: float, a: str, b: str) -> tuple[float, str, str]:
    return (-sim, min(a, b), max(a, b))


@dataclass
class _PairPlan:
    """What one SNO pair needs judged: statement pairs and (premise, statement) stance rows."""

    pairs: list[tuple[str, str]]
    premises: list[tuple[str, list[str], list[str]]]  # premise, A's statements, B's statements
    topic: float
    sides: tuple[list[str], list[str]] = ([], [])  # each side's statements (for its self level)
    shares: bool = False  # the two narratives share evidence (a key or a fact)


def _plan(
    sa: list[str],
    sb: list[str],
    shared: SharedTexts,
    sim: _Similarity,
    hyp_cos: float | None,
    cfg: ChiralityConfig,
) -> _PairPlan:
    others = [(a, b) for a in sa for b in sb if not (a == sa[0] and b == sb[0])]
    others.sort(key=lambda p: _sym_key(sim(*p), *p))
    chosen = [(sa[0], sb[0]), *others[: cfg.statement_pairs - 1]]
    premises: list[tuple[str, list[str], list[str]]] = []
    texts = sorted({t for item in list(shared)[: cfg.max_shared_evidence] for t in item})
    for premise in texts:

        def nearest(side: list[str], premise: str = premise) -> list[str]:
            ranked = sorted(side, key=lambda s: _sym_key(sim(premise, s), premise, s))
            return ranked[:_PREMISE_STATEMENTS]

        premises.append((premise, nearest(sa), nearest(sb)))
    # The centroid of all statements says what a narrative is about; a lone hypothesis cosine
    # does not (measured: "ban X" vs "ban Y" hypotheses of two debates look alike). Without any
    # vectors there is no gate: word overlap is no measure of topic (opposite sides may share no word).
    centroid = sim.centroid_cosine(sa, sb)
    topic = centroid if centroid is not None else hyp_cos if hyp_cos is not None else 1.0
    return _PairPlan(chosen, premises, topic, (sa, sb), bool(shared))


def hypothesis_cosine(sno_a: StructuredNarrativeObject, sno_b: StructuredNarrativeObject) -> float | None:
    """Cosine of the two stored hypothesis embeddings; None when one is missing."""
    ha, hb = sno_a.hypothesis_embedding, sno_b.hypothesis_embedding
    if ha is None or hb is None or ha.shape != hb.shape:
        return None
    va, vb = np.asarray(ha, dtype=np.float64), np.asarray(hb, dtype=np.float64)
    norm = float(np.linalg.norm(va) * np.linalg.norm(vb))
    return round(float(np.sum(va * vb)) / norm, 6) if norm > 0 else 0.0


def _top_mean(values: list[float], k: int) -> float:
    return float(np.mean(sorted(values, reverse=True)[:k])) if values else 0.0


def narrative_opposition(
    pairs: Sequence[tuple[StructuredNarrativeObject, StructuredNarrativeObject]],
    *,
    nli: NLIModel,
    embedder: Embedder | None = None,
    config: ChiralityConfig | None = None,
    shared: Sequence[SharedTexts] | None = None,
) -> NarrativeOpposition:
    """Opposition in [0, 1] of each ``(sno_a, sno_b)``, symmetric, in one NLI call.

    ``shared[i]`` lists ``(A's text, B's text)`` of the evidence pair ``i`` shares; by default the
    sources with an identical canonical key (:func:`key_shared_texts`). Without an embedder the
    topic-similar statements are chosen by word overlap and the gate uses the stored hypothesis
    embeddings (no gate when they are missing too).
    """
    cfg = config or ChiralityConfig()
    if not pairs:
        return NarrativeOpposition(np.zeros(0, dtype=np.float64), 0)
    sides = [
        (statements(a, cfg.max_claims_per_side), statements(b, cfg.max_claims_per_side)) for a, b in pairs
    ]
    shared_texts = [key_shared_texts(a, b) for a, b in pairs] if shared is None else [list(s) for s in shared]
    texts = sorted(
        {t for sa, sb in sides for t in (*sa, *sb)} | {t for s in shared_texts for item in s for t in item}
    )
    sim = _Similarity(texts, embedder)
    plans = [
        _plan(sa, sb, s, sim, hypothesis_cosine(a, b), cfg)
        for (a, b), (sa, sb), s in zip(pairs, sides, shared_texts, strict=True)
    ]
    low, high = cfg.topic_gate
    # a pair the topic gate closes scores 0 whatever the model says: do not ask it
    judged = [topic_gate(plan.topic, low, high) > 0 for plan in plans]
    rows: dict[tuple[str, str], int] = {}
    for plan, ask in zip(plans, judged, strict=True):
        if not ask:
            continue
        for a, b in plan.pairs:
            rows.setdefault((a, b), len(rows))
            rows.setdefault((b, a), len(rows))
        for premise, near_a, near_b in plan.premises:
            for s in (*near_a, *near_b):
                rows.setdefault((premise, s), len(rows))
        if _contrasted(plan, cfg):
            for side in plan.sides:
                for a, b in self_pairs(side):
                    rows.setdefault((a, b), len(rows))
                    rows.setdefault((b, a), len(rows))
    probs = np.asarray(nli.predict(list(rows)), dtype=np.float64) if rows else np.zeros((0, 3))
    scores = np.zeros(len(pairs), dtype=np.float64)
    details: list[dict[str, Any]] = []
    for n, (plan, ask) in enumerate(zip(plans, judged, strict=True)):
        score, detail = _combine(plan, rows, probs, cfg) if ask else (0.0, _closed(plan))
        scores[n] = score
        details.append(detail)
    return NarrativeOpposition(np.clip(scores, 0.0, 1.0), len(rows), details)


def _contrasted(plan: _PairPlan, cfg: ChiralityConfig) -> bool:
    """Whether the self contrast weighs this pair: on, and the pair shares no evidence unless
    ``contrast_shared_evidence`` says so.

    Pairs that share evidence are left out by default: on long essays that cite the same papers
    the model reads each essay's own statements as contradictory as the opponent's, so the
    contrast says nothing there (bundled examples: opposed pairs −0.23 to +0.02, same-side pairs
    −0.14 to +0.02) and removed every true pair; those pairs also carry their stance toward the
    shared evidence, and the side check separates their sides.
    """
    return cfg.self_contrast and (cfg.contrast_shared_evidence or not plan.shares)


def _closed(plan: _PairPlan) -> dict[str, Any]:
    """The details of a pair the topic gate closed before any model call."""
    return {
        "hypothesis": 0.0,
        "claims": 0.0,
        "evidence": 0.0,
        "topic": round(plan.topic, 6),
        "gate": 0.0,
        "contrast": None,
        "contrast_gate": 1.0,
        "statement_pairs": 0,
        "evidence_premises": 0,
    }


def _combine(
    plan: _PairPlan, rows: dict[tuple[str, str], int], probs: Array, cfg: ChiralityConfig
) -> tuple[float, dict[str, Any]]:
    def d(a: str, b: str) -> float:
        ab, ba = probs[rows[(a, b)]], probs[rows[(b, a)]]
        return float(max(ab[CONTRADICTION], ba[CONTRADICTION]) - max(ab[ENTAILMENT], ba[ENTAILMENT]))

    def stance(premise: str, side: list[str]) -> float:
        return float(
            np.mean(
                [
                    probs[rows[(premise, s)]][ENTAILMENT] - probs[rows[(premise, s)]][CONTRADICTION]
                    for s in side
                ]
            )
        )

    hyp = d(*plan.pairs[0])
    others = [d(a, b) for a, b in plan.pairs[1:]]
    claims = _top_mean(others, cfg.aggregate_top_k) if others else hyp
    stmt = max(0.0, cfg.hypothesis_weight * hyp + (1.0 - cfg.hypothesis_weight) * claims)
    excess = None
    if _contrasted(plan, cfg):
        excess = contrast([hyp, *others], self_level(plan.sides[0], d), self_level(plan.sides[1], d))
    stmt *= contrast_gate(excess, *cfg.contrast_gate)
    item_scores = []
    for premise, near_a, near_b in plan.premises:
        sa, sb = stance(premise, near_a), stance(premise, near_b)
        item_scores.append(min(max(sa, 0.0), max(-sb, 0.0)) + min(max(-sa, 0.0), max(sb, 0.0)))
    evidence = float(np.mean(item_scores)) if item_scores else 0.0
    combined = 1.0 - (1.0 - min(stmt, 1.0)) * (1.0 - cfg.evidence_weight * evidence)
    low, high = cfg.topic_gate
    gate = topic_gate(plan.topic, low, high)
    detail = {
        "hypothesis": round(hyp, 6),
        "claims": round(claims, 6),
        "evidence": round(evidence, 6),
        "topic": round(plan.topic, 6),
        "gate": round(gate, 6),
        "contrast": None if excess is None else round(excess, 6),
        "contrast_gate": round(contrast_gate(excess, *cfg.contrast_gate), 6),
        "statement_pairs": len(plan.pairs),
        "evidence_premises": len(plan.premises),
    }
    return combined * gate, detail
