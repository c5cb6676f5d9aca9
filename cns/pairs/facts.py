"""Candidate pairs from evidence items that state the same fact (no common citation key needed).

The key index (:mod:`cns.pairs.candidates`) only pairs SNOs that cite an identical source. Here
every evidence item of the eligible SNOs (at most ``max_items_per_sno`` each, sources first) is
embedded once and put in a faiss index (``index.kind``: exact ``flat``, or ``hnsw`` for large
populations); each item's ``neighbours`` nearest items of *other* SNOs with cosine ≥
``similarity`` become item pairs. Only the most similar ``max_judged_pairs`` of them go to the
NLI model (one call), which keeps the cost bounded whatever the population; the model, not the
wording, decides (:func:`cns.metrics.shared_facts.judge_facts`). Per SNO pair, matches are then
taken one-to-one, best first, at most ``max_matches_per_pair``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cns.config.settings import CNSConfig
from cns.core.evidence import EvidenceItem
from cns.core.sno import StructuredNarrativeObject
from cns.index.faiss_index import FaissVectorIndex
from cns.metrics.shared_facts import EvidenceMatch, entanglement_with_facts, judge_facts
from cns.ports import Embedder, NLIModel

PairMatches = dict[tuple[int, int], list[EvidenceMatch]]


@dataclass
class FactSearchStats:
    items: int = 0
    similar_pairs: int = 0
    judged_pairs: int = 0
    matches: int = 0


def _items(sno: StructuredNarrativeObject, limit: int) -> list[EvidenceItem]:
    ranked = sorted(sno.evidence_set, key=lambda e: (not e.is_source, e.key))
    return ranked[:limit]


def _similar_item_pairs(
    owners: list[int], vectors: NDArray[np.float32], config: CNSConfig
) -> list[tuple[float, int, int]]:
    """``(cosine, item_x, item_y)`` with ``x < y`` of different SNOs, above the similarity floor."""
    cfg, idx = config.evidence_matching, config.index
    index = FaissVectorIndex(
        int(vectors.shape[1]),
        idx.kind,
        hnsw_m=idx.hnsw_m,
        ef_construction=idx.ef_construction,
        ef_search=idx.ef_search,
    )
    index.add([str(i) for i in range(len(owners))], vectors)
    found: dict[tuple[int, int], float] = {}
    hits = index.search(vectors, cfg.neighbours + 1)
    for x, row in enumerate(hits):
        for other, cos in row:
            y = int(other)
            if owners[x] != owners[y] and cos >= cfg.similarity:
                found[(min(x, y), max(x, y))] = round(float(cos), 6)
    return sorted(((c, x, y) for (x, y), c in found.items()), key=lambda t: (-t[0], t[1], t[2]))


def find_fact_matches(
    snos: Sequence[StructuredNarrativeObject],
    rows: Sequence[int],
    *,
    config: CNSConfig,
    nli: NLIModel,
    embedder: Embedder,
    stats: FactSearchStats | None = None,
) -> PairMatches:
    """Fact matches between the SNOs at ``rows``, keyed by ``(row_a, row_b)`` with ``row_a < row_b``.

    Items with an identical canonical key are left out (they are key matches already).
    """
    cfg = config.evidence_matching
    stats = stats if stats is not None else FactSearchStats()
    owners: list[int] = []
    items: list[EvidenceItem] = []
    for row in rows:
        for item in _items(snos[row], cfg.max_items_per_sno):
            owners.append(row)
            items.append(item)
    stats.items = len(items)
    if len(set(owners)) < 2:
        return {}
    texts = sorted({item.content for item in items})
    encoded = np.asarray(embedder.encode(texts), dtype=np.float32)
    norms = np.linalg.norm(encoded, axis=1, keepdims=True)
    encoded = np.divide(encoded, norms, out=np.zeros_like(encoded), where=norms > 0)
    position = {t: i for i, t in enumerate(texts)}
    vectors = encoded[[position[item.content] for item in items]]
    similar = [
        (c, x, y)
        for c, x, y in _similar_item_pairs(owners, vectors, config)
        if items[x].key != items[y].key and not _shares_key(snos, owners[x], owners[y], items[x], items[y])
    ]
    stats.similar_pairs = len(similar)
    judged = similar[: cfg.max_judged_pairs]
    stats.judged_pairs = len(judged)
    scores = judge_facts([(items[x].content, items[y].content) for _, x, y in judged], nli=nli, config=cfg)
    return _one_to_one(judged, scores, owners, items, cfg.max_matches_per_pair, stats)


def _shares_key(
    snos: Sequence[StructuredNarrativeObject], a: int, b: int, item_a: EvidenceItem, item_b: EvidenceItem
) -> bool:
    """An item whose key both SNOs hold is already a key match, not a fact match."""
    keys_a, keys_b = snos[a].source_keys, snos[b].source_keys
    return (item_a.key in keys_a and item_a.key in keys_b) or (item_b.key in keys_a and item_b.key in keys_b)


def _one_to_one(
    judged: list[tuple[float, int, int]],
    scores: NDArray[np.float64],
    owners: list[int],
    items: list[EvidenceItem],
    limit: int,
    stats: FactSearchStats,
) -> PairMatches:
    ranked = sorted(
        ((float(s), x, y) for (_, x, y), s in zip(judged, scores.tolist(), strict=True) if s > 0),
        key=lambda t: (-t[0], t[1], t[2]),
    )
    out: PairMatches = {}
    used: set[tuple[int, int, int]] = set()  # (row_a, row_b, item): one-to-one within a pair
    for score, x, y in ranked:
        if owners[x] > owners[y]:
            x, y = y, x
        key = (owners[x], owners[y])
        if (*key, x) in used or (*key, y) in used:
            continue
        matches = out.setdefault(key, [])
        if len(matches) >= limit:
            continue
        used.update(((*key, x), (*key, y)))
        ia, ib = items[x], items[y]
        matches.append(
            EvidenceMatch("fact", ia.key, ib.key, score, ia.content, ib.content, ia.is_source, ib.is_source)
        )
    stats.matches = sum(len(m) for m in out.values())
    return out


def fact_entanglement(
    n_key: int, size_a: int, size_b: int, matches: list[EvidenceMatch], fact_weight: float
) -> float:
    """``E`` of a pair with ``n_key`` shared keys and these fact matches (:mod:`cns.metrics.shared_facts`)."""
    src_a = sum(1 for m in matches if m.a_is_source)
    src_b = sum(1 for m in matches if m.b_is_source)
    return entanglement_with_facts(
        n_key, len(matches), max(0, size_a - n_key - src_a), max(0, size_b - n_key - src_b), fact_weight
    )
