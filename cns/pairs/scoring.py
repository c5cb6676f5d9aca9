"""Exact chirality of candidate pairs by the configured method, in as few model calls as possible.

``narrative`` (the default) judges the two whole narratives — hypotheses, claims and their stance
toward the evidence they share, key matches and fact matches alike (:mod:`cns.metrics.narrative`).
For ``nli``, opposition is symmetric, so identical hypothesis pairs (in either order) are scored
once. Either way all NLI pairs of a batch, both directions, go to the model in a single
``predict``. The ``embedding`` method uses the stored hypothesis embeddings and calls no model
when they are present.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from cns.config.settings import ChiralityConfig, ChiralityMethod, CNSConfig
from cns.core.sno import StructuredNarrativeObject
from cns.errors import ConfigError
from cns.metrics import blueprint_chirality_batch, opposition_scores
from cns.metrics.narrative import key_shared_texts, narrative_opposition, topic_gate
from cns.metrics.shared_facts import EvidenceMatch
from cns.ports import Embedder, NLIModel

PairMatches = dict[tuple[int, int], list[EvidenceMatch]]


class Judged(NamedTuple):
    """Opposition of each candidate, the NLI pairs it cost, and how much each judgement says.

    ``relevance`` is the narrative method's topic gate (1 for the other methods): a pair about two
    different questions has opposition 0 *and* relevance 0 — it says nothing about sides — while
    two same-topic narratives that agree have opposition 0 with relevance 1.
    """

    opposition: NDArray[np.float64]
    nli_pairs: int
    relevance: NDArray[np.float64]


FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int32] | NDArray[np.int64]
_EPS = 1e-12  # as in cns.pairs.ranking


def opposition_upper_bound(config: ChiralityConfig) -> float:
    """The largest opposition the method can return (1, or 2 for an un-halved cosine distance)."""
    embedding_max = 1.0 if config.halve_cosine_distance else 2.0
    if config.method in (ChiralityMethod.NLI, ChiralityMethod.NARRATIVE):
        return 1.0
    if config.method is ChiralityMethod.EMBEDDING:
        return embedding_max
    w = config.hybrid_nli_weight
    return w + (1.0 - w) * embedding_max


def _embedding_opposition(
    snos: Sequence[StructuredNarrativeObject],
    a: IntArray,
    b: IntArray,
    *,
    config: ChiralityConfig,
    embedder: Embedder | None,
) -> FloatArray:
    needed = sorted({int(i) for i in np.concatenate([a, b]) if snos[int(i)].hypothesis_embedding is None})
    vectors: dict[int, NDArray[np.float32]] = {}
    if needed:
        if embedder is None:
            raise ConfigError.for_key(
                "chirality.method", "the embedding method needs hypothesis embeddings or an embedder"
            )
        encoded = embedder.encode([snos[i].central_hypothesis for i in needed])
        vectors = {i: encoded[k] for k, i in enumerate(needed)}

    def vector(i: int) -> NDArray[np.float32]:
        stored = snos[i].hypothesis_embedding
        return vectors[i] if stored is None else stored

    def matrix(idx: IntArray) -> NDArray[np.float32]:
        return np.stack([vector(int(i)) for i in idx])

    ones = np.ones(a.shape[0])
    return blueprint_chirality_batch(matrix(a), matrix(b), ones, ones, halve=config.halve_cosine_distance)


def _nli_opposition(
    snos: Sequence[StructuredNarrativeObject], a: IntArray, b: IntArray, *, nli: NLIModel
) -> tuple[FloatArray, int]:
    keys: list[tuple[str, str]] = []
    for i, j in zip(a.tolist(), b.tolist(), strict=True):
        ha, hb = snos[i].central_hypothesis, snos[j].central_hypothesis
        keys.append((ha, hb) if ha <= hb else (hb, ha))
    unique = list(dict.fromkeys(keys))
    scores = opposition_scores(unique, nli=nli, method=ChiralityMethod.NLI)
    lookup = dict(zip(unique, scores.tolist(), strict=True))
    return np.array([lookup[k] for k in keys], dtype=np.float64), 2 * len(unique)


def shared_texts(
    snos: Sequence[StructuredNarrativeObject], i: int, j: int, facts: PairMatches | None
) -> list[tuple[str, str]]:
    """What rows ``i`` and ``j`` share: sources with one key, then items stating the same fact."""
    found = key_shared_texts(snos[i], snos[j])
    if facts:
        found += [(m.text_a, m.text_b) for m in facts.get((min(i, j), max(i, j)), [])]
    return found


def _narrative(
    snos: Sequence[StructuredNarrativeObject],
    a: IntArray,
    b: IntArray,
    *,
    config: ChiralityConfig,
    nli: NLIModel,
    embedder: Embedder | None,
    facts: PairMatches | None,
) -> tuple[Judged, list[dict[str, Any]]]:
    rows = list(zip(a.tolist(), b.tolist(), strict=True))
    result = narrative_opposition(
        [(snos[i], snos[j]) for i, j in rows],
        nli=nli,
        embedder=embedder,
        config=config,
        shared=[shared_texts(snos, i, j, facts) for i, j in rows],
    )
    gates = np.array([float(d.get("gate", 1.0)) for d in result.details], dtype=np.float64)
    return Judged(result.scores, result.nli_pairs, gates), result.details


def candidate_opposition(
    snos: Sequence[StructuredNarrativeObject],
    a: IntArray,
    b: IntArray,
    *,
    config: ChiralityConfig,
    nli: NLIModel | None,
    embedder: Embedder | None,
    facts: PairMatches | None = None,
) -> Judged:
    """Opposition of rows ``a[i]``/``b[i]``, the number of NLI pairs sent to the model, relevance.

    ``facts`` (keyed by ``(min row, max row)``) adds the fact-matched evidence of each pair to what
    the ``narrative`` method judges the two sides' stance toward.
    """
    return opposition_with_parts(snos, a, b, config=config, nli=nli, embedder=embedder, facts=facts)[0]


def opposition_with_parts(
    snos: Sequence[StructuredNarrativeObject],
    a: IntArray,
    b: IntArray,
    *,
    config: ChiralityConfig,
    nli: NLIModel | None,
    embedder: Embedder | None,
    facts: PairMatches | None = None,
) -> tuple[Judged, list[dict[str, Any]]]:
    """:func:`candidate_opposition` and, per pair, the parts of the score a person can check.

    For the ``narrative`` method the parts are those of
    :func:`~cns.metrics.narrative.narrative_opposition` (hypothesis pair, top claim pairs, stance
    toward shared evidence, topic similarity and gate); the sentence methods have one part,
    their score, and the hypothesis topic gate.
    """
    if a.shape[0] == 0:
        return Judged(np.zeros(0, dtype=np.float64), 0, np.ones(0, dtype=np.float64)), []
    method = config.method
    if method is ChiralityMethod.NARRATIVE:
        if nli is None:
            raise ConfigError.for_key("chirality.method", "method 'narrative' needs an NLI model")
        return _narrative(snos, a, b, config=config, nli=nli, embedder=embedder, facts=facts)
    judged = _sentence_opposition(snos, a, b, config=config, nli=nli, embedder=embedder)
    parts = [
        {"method": method.value, "score": round(float(o), 6), "gate": round(float(r), 6)}
        for o, r in zip(judged.opposition, judged.relevance, strict=True)
    ]
    return judged, parts


def _sentence_opposition(
    snos: Sequence[StructuredNarrativeObject],
    a: IntArray,
    b: IntArray,
    *,
    config: ChiralityConfig,
    nli: NLIModel | None,
    embedder: Embedder | None,
) -> Judged:
    method = config.method
    relevance = _hypothesis_gate(snos, a, b, config)
    if method is ChiralityMethod.EMBEDDING:
        return Judged(_embedding_opposition(snos, a, b, config=config, embedder=embedder), 0, relevance)
    if nli is None:
        raise ConfigError.for_key("chirality.method", f"method '{method.value}' needs an NLI model")
    stance, calls = _nli_opposition(snos, a, b, nli=nli)
    if method is ChiralityMethod.NLI:
        return Judged(stance, calls, relevance)
    w = config.hybrid_nli_weight
    topic = _embedding_opposition(snos, a, b, config=config, embedder=embedder)
    return Judged(w * stance + (1.0 - w) * topic, calls, relevance)


def _hypothesis_gate(
    snos: Sequence[StructuredNarrativeObject], a: IntArray, b: IntArray, config: ChiralityConfig
) -> FloatArray:
    """The topic gate on the stored hypothesis embeddings (1 where one is missing).

    The sentence methods do not gate their score, but the side check must still know which
    judged pairs are about one question: two unrelated hypotheses are "not opposed" without being
    allies.
    """
    low, high = config.topic_gate
    out = np.ones(a.shape[0], dtype=np.float64)
    for k, (i, j) in enumerate(zip(a.tolist(), b.tolist(), strict=True)):
        ha, hb = snos[i].hypothesis_embedding, snos[j].hypothesis_embedding
        if ha is None or hb is None or ha.shape != hb.shape:
            continue
        norm = float(np.linalg.norm(ha) * np.linalg.norm(hb))
        if norm > 0:
            out[k] = topic_gate(float(np.dot(ha, hb)) / norm, low, high)
    return out


def trusts(snos: Sequence[StructuredNarrativeObject]) -> FloatArray:
    """Trust scores as an array, NaN where missing."""
    return np.array([np.nan if s.trust_score is None else s.trust_score for s in snos], dtype=np.float64)


def can_reach_chirality(t: FloatArray, config: CNSConfig) -> NDArray[np.bool_]:
    """Trusted rows whose best possible chirality with anyone reaches θ_C."""
    trusted = ~np.isnan(t)
    t0 = np.where(trusted, t, 0.0)
    t_max = float(t0.max()) if t0.size else 0.0
    omax = opposition_upper_bound(config.chirality)
    result: NDArray[np.bool_] = trusted & (omax * t0 * t_max >= config.synthesis_thresholds.chirality - _EPS)
    return result
