"""Novelty–parsimony critic (docs/design-notes.md#the-novelty-reference-set).

``Score_N = clip(α · n − π)`` with

* ``n = min_i ‖H − H_i‖ / 2`` over the **reference set** — population SNOs with trust ≥ τ_ref,
  held in a :class:`~cns.ports.VectorIndex` (the whole population would make novelty depend
  on insertion order). For unit vectors ``‖a − b‖ = sqrt(2 − 2 a·b)``, so the
  nearest neighbour by inner product is the nearest by distance; ÷2 maps it into [0, 1].
  An empty reference set gives ``n = 1`` (the first narrative of its kind is novel).
* ``π = β · min(1, (|E_G| / |V|) / scale)`` — the parsimony penalty for sprawling graphs.

With the defaults (α = 0.7, β = 0.3) the score is at most 0.7.

**Opponents and copies are not "nothing new".** The nearest narrative on the same topic is very
often the one arguing the *opposite* — exactly the partner CNS exists to pair. Counting it as lack
of novelty gave two opposing documents novelty 0 each, pushed them under the ingest threshold at
re-score and archived them. So, when the context can look up reference SNOs
(``reference_lookup``) and ``novelty.skip_opponents`` is on, among the ``novelty.neighbours``
nearest references the critic passes over (and records, with the reason):

* another version of the **same document** (same ``document_id`` or same content hash) — a
  re-ingestion is not a competing narrative;
* an **opponent** — narrative opposition (:mod:`cns.metrics.narrative`) ≥
  ``novelty.opponent_threshold``. Neighbours are judged nearest first and the search stops at
  the first one that counts, so usually only the nearest costs an NLI call. Neighbours below the topic gate are
  not judged (they cannot be opposed), so a narrative alone on its topic costs no NLI call.

The distance is then taken to the nearest remaining reference; if all examined neighbours were
passed over, to the farthest examined one (the nearest remaining one is at least that far). A
synthesis is always compared with its parents. docs/critics.md explains which critic depends on
the population and why.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from cns.config.settings import ChiralityConfig, NoveltyConfig
from cns.critics.base import CriticResult, EvaluationContext, clip01
from cns.metrics.narrative import narrative_opposition
from cns.ports import Embedder, NLIModel

if TYPE_CHECKING:
    from cns.core.sno import StructuredNarrativeObject

CONFIDENCE = 0.9


class NoveltyCritic:
    """Distance to the nearest trusted narrative that is neither an opponent nor a copy, minus a complexity penalty."""

    name = "novelty"

    def __init__(
        self,
        config: NoveltyConfig | None = None,
        *,
        nli: NLIModel | None = None,
        embedder: Embedder | None = None,
        chirality: ChiralityConfig | None = None,
    ) -> None:
        self.config = config or NoveltyConfig()
        self.nli = nli
        self.embedder = embedder
        self.chirality = chirality or ChiralityConfig()

    def _nearest_distance(
        self, sno: StructuredNarrativeObject, context: EvaluationContext
    ) -> tuple[float, str | None, list[dict[str, Any]]]:
        index = context.reference_index
        if index is None or len(index) == 0 or sno.hypothesis_embedding is None:
            return 1.0, None, []
        exclude = context.exclude_ids | {sno.sno_id}
        examine = self.config.neighbours if self._can_skip(context) else 1
        k = min(len(index), len(exclude) + examine)
        query = np.asarray(sno.hypothesis_embedding, dtype=np.float32)[None, :]
        hits = [(ref, inner) for ref, inner in index.search(query, k)[0] if ref not in exclude][:examine]
        if not hits:
            return 1.0, None, []
        if not self._can_skip(context):
            ref_id, inner = hits[0]
            return _half_distance(inner), ref_id, []
        skipped: list[dict[str, Any]] = []
        for ref_id, inner in hits:  # nearest first; stop at the first one that counts
            reason = self._pass_over_reason(sno, ref_id, inner, context)
            if reason is None:
                return _half_distance(inner), ref_id, skipped
            skipped.append(reason)
        ref_id, inner = hits[-1]
        return _half_distance(inner), None, skipped

    def _can_skip(self, context: EvaluationContext) -> bool:
        return self.config.skip_opponents and context.reference_lookup is not None

    def _pass_over_reason(
        self, sno: StructuredNarrativeObject, ref_id: str, inner: float, context: EvaluationContext
    ) -> dict[str, Any] | None:
        """Why the neighbour ``ref_id`` does not count (same document, opponent), or ``None``.

        Neighbours are judged one at a time, nearest first, and the search stops at the first
        one that counts: on the ingestion path that is usually the nearest, so a document pays
        for one narrative-opposition judgement, not one per examined neighbour.
        """
        assert context.reference_lookup is not None
        other = context.reference_lookup(ref_id)
        if other is None or ref_id in set(sno.metadata.get("parent_ids") or []):
            return None
        if _same_document(sno, other):
            return {"sno_id": ref_id, "reason": "same document"}
        if self.nli is None or inner < self.chirality.topic_gate[0]:
            return None
        [opposition] = narrative_opposition(
            [(sno, other)], nli=self.nli, embedder=self.embedder, config=self.chirality
        ).scores.tolist()
        if opposition >= self.config.opponent_threshold:
            return {"sno_id": ref_id, "reason": "opponent", "opposition": round(float(opposition), 4)}
        return None

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
        novelty, nearest, skipped = self._nearest_distance(sno, context)
        score = clip01(cfg.alpha * novelty - penalty)
        reference = 0 if context.reference_index is None else len(context.reference_index)
        explanation = (
            f"distance/2 to nearest trusted narrative {novelty:.3f}"
            + (f" ({nearest})" if nearest else " (no reference narratives)" if not skipped else "")
            + (f"; passed over {len(skipped)} opponent(s)/copies" if skipped else "")
            + f"; complexity penalty {penalty:.3f}"
        )
        sub = {"novelty": novelty, "parsimony_penalty": penalty}
        details = {"nearest": nearest, "reference_size": reference, "passed_over": skipped}
        return CriticResult(self.name, score, CONFIDENCE, explanation, sub, details)


def _half_distance(inner: float) -> float:
    return min(1.0, math.sqrt(max(0.0, 2.0 - 2.0 * min(1.0, inner))) / 2.0)


def _same_document(a: StructuredNarrativeObject, b: StructuredNarrativeObject) -> bool:
    doc_a, doc_b = a.metadata.get("document_id"), b.metadata.get("document_id")
    if doc_a is not None and doc_a == doc_b:
        return True
    return a.content_hash() == b.content_hash()
