"""Novelty–parsimony critic (spec §3.4, G6).

``Score_N = clip(α · n − π)`` with

* ``n = min_i ‖H − H_i‖ / 2`` over the **reference set** — population SNOs with trust ≥ τ_ref,
  held in a :class:`~cns.ports.VectorIndex` (the guide used the whole population, making
  novelty depend on insertion order). For unit vectors ``‖a − b‖ = sqrt(2 − 2 a·b)``, so the
  nearest neighbour by inner product is the nearest by distance; ÷2 maps it into [0, 1].
  An empty reference set gives ``n = 1`` (the first narrative of its kind is novel).
* ``π = β · min(1, (|E_G| / |V|) / scale)`` — the parsimony penalty for sprawling graphs.

With the defaults (α = 0.7, β = 0.3) the score is at most 0.7, as in the guide.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from cns.config.settings import NoveltyConfig
from cns.critics.base import CriticResult, EvaluationContext, clip01

if TYPE_CHECKING:
    from cns.core.sno import StructuredNarrativeObject

CONFIDENCE = 0.9


class NoveltyCritic:
    """Distance to the nearest trusted narrative, minus a complexity penalty."""

    name = "novelty"

    def __init__(self, config: NoveltyConfig | None = None) -> None:
        self.config = config or NoveltyConfig()

    def _nearest_distance(
        self, sno: StructuredNarrativeObject, context: EvaluationContext
    ) -> tuple[float, str | None]:
        index = context.reference_index
        if index is None or len(index) == 0 or sno.hypothesis_embedding is None:
            return 1.0, None
        exclude = context.exclude_ids | {sno.sno_id}
        k = min(len(index), len(exclude) + 1)
        query = np.asarray(sno.hypothesis_embedding, dtype=np.float32)[None, :]
        for ref_id, inner in index.search(query, k)[0]:
            if ref_id not in exclude:
                distance = math.sqrt(max(0.0, 2.0 - 2.0 * min(1.0, inner)))
                return min(1.0, distance / 2.0), ref_id
        return 1.0, None

    def evaluate(self, sno: StructuredNarrativeObject, context: EvaluationContext) -> CriticResult:
        cfg = self.config
        graph = sno.reasoning_graph
        complexity = graph.number_of_edges() / max(1, graph.number_of_nodes())
        penalty = cfg.beta * min(1.0, complexity / cfg.parsimony_scale)
        if sno.hypothesis_embedding is None:
            return CriticResult(
                self.name,
                0.0,
                0.0,
                "no hypothesis embedding: novelty cannot be measured",
                {"parsimony_penalty": penalty},
            )
        novelty, nearest = self._nearest_distance(sno, context)
        score = clip01(cfg.alpha * novelty - penalty)
        reference = 0 if context.reference_index is None else len(context.reference_index)
        explanation = (
            f"distance/2 to nearest trusted narrative {novelty:.3f}"
            + (f" ({nearest})" if nearest else " (no reference narratives)")
            + f"; complexity penalty {penalty:.3f}"
        )
        sub = {"novelty": novelty, "parsimony_penalty": penalty}
        return CriticResult(
            self.name, score, CONFIDENCE, explanation, sub, {"nearest": nearest, "reference_size": reference}
        )
