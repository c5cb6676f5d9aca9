"""The naive brute-force pair search over every pair, kept as the reference to test against.

For every ``i < j``: compute ``C`` and skip if ``C < θ_C`` (or the opposition is below ``θ_O``); compute ``E`` and skip if
``E < θ_E``; compute ``P`` and record the pair; sort by ``P`` and keep ``max_pairs``. Model calls
are batched (``chunk`` pairs per NLI call) — the most favourable form of a naive loop — but
the number of pairs scored is still ``N (N − 1) / 2``. It uses the same scoring functions as
:func:`cns.pairs.find_chiral_pairs`, so both return identical numbers on the same input.
It applies the same two conventions: untrusted SNOs are skipped and ``E`` must be > 0; and the
same fact matches (:mod:`cns.pairs.facts`, when an embedder is given) count in ``E``. The topic
search and the side check of the fast search are layers on top; compare with them switched off
(``pair_search.topic_neighbours: 0``, ``pair_search.side_consistency: false``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cns.config.settings import CNSConfig
from cns.core.sno import StructuredNarrativeObject
from cns.metrics import chirality_batch, jaccard_from_counts, synthesis_potential
from cns.pairs.facts import fact_entanglement, find_fact_matches
from cns.pairs.scoring import can_reach_chirality, candidate_opposition, trusts
from cns.pairs.types import ChiralPair
from cns.ports import Embedder, NLIModel


def brute_force_pairs(
    snos: Sequence[StructuredNarrativeObject],
    config: CNSConfig,
    *,
    nli: NLIModel | None = None,
    embedder: Embedder | None = None,
    max_pairs: int | None = None,
    chunk: int = 4096,
) -> list[ChiralPair]:
    """All-pairs search with the naive C-then-E threshold order (no conflict points)."""
    snos = list(snos)
    th = config.synthesis_thresholds
    limit = max_pairs or config.population.max_pairs
    t = trusts(snos)
    keys = [s.source_keys for s in snos]
    rows = [i for i in range(len(snos)) if not np.isnan(t[i])]
    cfg = config.evidence_matching
    reach = can_reach_chirality(t, config)
    fact_rows = [i for i in rows if reach[i] and snos[i].evidence_set]  # as the search does
    facts = (
        find_fact_matches(snos, fact_rows, config=config, nli=nli, embedder=embedder)
        if cfg.facts and cfg.fact_weight > 0 and embedder is not None and nli is not None
        else {}
    )
    all_a = np.array([i for x, i in enumerate(rows) for _ in rows[x + 1 :]], dtype=np.int64)
    all_b = np.array([j for x, _ in enumerate(rows) for j in rows[x + 1 :]], dtype=np.int64)
    found: list[ChiralPair] = []
    for start in range(0, all_a.size, chunk):
        a, b = all_a[start : start + chunk], all_b[start : start + chunk]
        opp, _, _ = candidate_opposition(
            snos, a, b, config=config.chirality, nli=nli, embedder=embedder, facts=facts
        )
        chir = chirality_batch(opp, t[a], t[b])
        for i, j, c, o in zip(a.tolist(), b.tolist(), chir.tolist(), opp.tolist(), strict=True):
            if o < th.opposition or c < th.chirality:
                continue
            shared = keys[i] & keys[j]
            e = float(jaccard_from_counts([len(shared)], [len(keys[i])], [len(keys[j])])[0])
            if (i, j) in facts:
                e = fact_entanglement(len(shared), len(keys[i]), len(keys[j]), facts[(i, j)], cfg.fact_weight)
            if e < th.entanglement or e <= 0:
                continue
            p = float(synthesis_potential([c], [e])[0])
            if p < th.potential or p <= 0:
                continue
            x, y = (snos[i], snos[j]) if snos[i].sno_id <= snos[j].sno_id else (snos[j], snos[i])
            found.append(ChiralPair(x, y, c, e, p, shared, opposition=o))
    found.sort(key=lambda pr: (-pr.potential, *pr.key))
    return found[:limit]
