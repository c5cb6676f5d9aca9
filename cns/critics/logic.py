"""Logic critic: a transparent structural score of the reasoning graph, not a learned model.

Counting nodes with in-degree 0 as "orphans" would flag every base premise, since edges run
premise → conclusion (docs/design-notes.md#the-logic-critic). Here:

* orphan rate ``o`` = share of non-root claims with **no directed path to the root**;
* coherence ``c = max(0, 1 − mean out-degree / scale)``; parsimony ``p = 1 − density``;
* ``base = (w_o·o + w_c·c + w_p·p) / (w_o + w_c + w_p)`` (default weights 0.5 / 0.3 / 0.2);
* penalties: an isolated root — nothing argues for the hypothesis — multiplies the
  score by ``1 − isolated_root_penalty``; each ``contradicts`` / ``weakens`` edge whose target lies
  on a supporting chain to the root multiplies it by ``1 − opposing_edge_penalty``; a cycle
  (only possible in hand-edited data) scores 0.

A hypothesis-only SNO is "no argument", not "perfect logic": it gets ``1 − isolated_root_penalty``
(0.5 by default), so neither a narrative nor a synthesis can score better by dropping its claims.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import networkx as nx

from cns.config.settings import LogicConfig
from cns.core.graph import ROOT_ID
from cns.critics.base import CriticResult, EvaluationContext, clip01

if TYPE_CHECKING:
    from cns.core.sno import StructuredNarrativeObject

CONFIDENCE = 0.9


class LogicCritic:
    """Structural soundness of the reasoning graph."""

    name = "logic"

    def __init__(self, config: LogicConfig | None = None) -> None:
        self.config = config or LogicConfig()

    def evaluate(self, sno: StructuredNarrativeObject, context: EvaluationContext) -> CriticResult:
        cfg = self.config
        graph = sno.reasoning_graph
        n, m = graph.number_of_nodes(), graph.number_of_edges()
        if not nx.is_directed_acyclic_graph(graph):
            return CriticResult(
                self.name, 0.0, 1.0, "the reasoning graph contains a cycle", {}, {"nodes": n, "edges": m}
            )
        if n <= 1:
            score = 1.0 - cfg.isolated_root_penalty
            return CriticResult(
                self.name,
                score,
                CONFIDENCE,
                "hypothesis only: no reasoning to assess",
                {},
                {"nodes": n, "edges": m},
            )
        reaching_root = nx.ancestors(graph, ROOT_ID) | {ROOT_ID}
        orphans = sorted(node for node in graph if node not in reaching_root)
        orphan_score = 1.0 - len(orphans) / (n - 1)
        coherence = max(0.0, 1.0 - (m / n) / cfg.out_degree_scale)
        parsimony = 1.0 - nx.density(graph)
        total_w = cfg.orphan_weight + cfg.coherence_weight + cfg.parsimony_weight
        base = (
            (
                cfg.orphan_weight * orphan_score
                + cfg.coherence_weight * coherence
                + cfg.parsimony_weight * parsimony
            )
            / total_w
            if total_w > 0
            else 0.0
        )
        opposing = [
            (edge.source, edge.target)
            for edge in sno.edges()
            if edge.relation_type.is_opposing and edge.target in reaching_root
        ]
        isolated_root = graph.in_degree(ROOT_ID) == 0
        score = base * (1.0 - cfg.opposing_edge_penalty) ** len(opposing)
        if isolated_root:
            score *= 1.0 - cfg.isolated_root_penalty
        score = clip01(score)
        notes = [f"{len(orphans)} of {n - 1} claims do not reach the hypothesis"]
        if opposing:
            notes.append(f"{len(opposing)} contradicts/weakens edges inside supporting chains")
        if isolated_root:
            notes.append("no claim argues for the hypothesis (isolated root)")
        sub = {"orphan": orphan_score, "coherence": coherence, "parsimony": parsimony, "base": base}
        details = {
            "nodes": n,
            "edges": m,
            "orphans": orphans,
            "opposing_edges": [list(e) for e in opposing],
            "isolated_root": isolated_root,
        }
        return CriticResult(self.name, score, CONFIDENCE, "; ".join(notes), sub, details)
