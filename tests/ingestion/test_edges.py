"""Edge typing from NLI: opposition needs confidence and corroboration; the graph stays a DAG."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cns.core.graph import ROOT_ID, RelationType
from cns.ingestion.cues import leading_connective
from cns.ingestion.edges import EdgeBuilder, EdgeNode, NLIPolicy, build_edges
from cns.ports import FloatArray


class ConstantNLI:
    """Answers the same (entail, neutral, contra) row for every pair."""

    name, version = "constant", "1"

    def __init__(self, row: tuple[float, float, float]) -> None:
        self.row = row

    def predict(self, pairs: Sequence[tuple[str, str]]) -> FloatArray:
        return np.tile(np.asarray(self.row, dtype=np.float32), (len(pairs), 1))


def _nodes(*texts: str) -> list[EdgeNode]:
    nodes = [EdgeNode(ROOT_ID, "Cities can build bike lanes.", 0)]
    for i, text in enumerate(texts, start=1):
        connective = leading_connective(text)
        counter = "critics" in text.lower() or (connective is not None and connective[1] == "contrast")
        nodes.append(EdgeNode(f"claim_{i}", text, i, connective, counter))
    return nodes


def _relations(edges: list) -> dict[tuple[str, str], RelationType]:  # type: ignore[type-arg]
    return {(e.source, e.target): e.relation for e in edges}


def test_uncorroborated_contradiction_does_not_oppose() -> None:
    nodes = _nodes("Travel times changed by less than a minute.", "Shops did not lose revenue.")
    edges, opposing, _ = build_edges("Cities can build bike lanes.", nodes, ConstantNLI((0.1, 0.1, 0.8)))
    assert opposing == set()
    assert all(e.relation is RelationType.SUPPORTS and e.target == ROOT_ID for e in edges)
    assert {e.basis for e in edges} == {"default:salient"}


def test_counter_argument_cue_with_confident_nli_weakens_the_root() -> None:
    nodes = _nodes("Critics say bike lanes cause congestion.", "Shops did not lose revenue.")
    edges, opposing, _ = build_edges("Cities can build bike lanes.", nodes, ConstantNLI((0.1, 0.1, 0.8)))
    assert opposing == {"claim_1"}
    assert _relations(edges)[("claim_1", ROOT_ID)] is RelationType.WEAKENS


def test_near_certain_contradiction_needs_no_cue() -> None:
    nodes = _nodes("Bike lanes can never be built in cities.")
    edges, opposing, _ = build_edges("Cities can build bike lanes.", nodes, ConstantNLI((0.02, 0.03, 0.95)))
    assert opposing == {"claim_1"} and _relations(edges)[("claim_1", ROOT_ID)] is RelationType.CONTRADICTS


def test_entailment_supports_and_connectives_chain() -> None:
    nodes = _nodes("Fewer cars used the avenue.", "Therefore congestion fell.")
    edges, _, _ = build_edges("Cities can build bike lanes.", nodes, ConstantNLI((0.8, 0.1, 0.1)))
    rel = _relations(edges)
    assert rel[("claim_1", "claim_2")] is RelationType.IMPLIES
    assert rel[("claim_1", ROOT_ID)] is RelationType.SUPPORTS


def test_custom_policy_thresholds() -> None:
    strict = NLIPolicy(entail=0.9)
    nodes = _nodes("Fewer cars used the avenue.")
    edges, _, _ = build_edges(
        "Cities can build bike lanes.", nodes, ConstantNLI((0.8, 0.1, 0.1)), policy=strict
    )
    assert edges[0].basis == "default:salient"


def test_edge_builder_refuses_cycles_and_root_as_premise() -> None:
    builder = EdgeBuilder(["a", "b"])
    assert builder.add("a", "b", RelationType.SUPPORTS, 1.0, "t")
    assert not builder.add("b", "a", RelationType.SUPPORTS, 1.0, "t")  # reverse of an existing edge
    assert builder.add("b", ROOT_ID, RelationType.SUPPORTS, 1.0, "t")
    assert not builder.add(ROOT_ID, "a", RelationType.SUPPORTS, 1.0, "t")
    assert builder.skipped_cycles == 1 and builder.reaches_root("a")


class RecordingNLI(ConstantNLI):
    def __init__(self, row: tuple[float, float, float]) -> None:
        super().__init__(row)
        self.calls: list[list[tuple[str, str]]] = []

    def predict(self, pairs: Sequence[tuple[str, str]]) -> FloatArray:
        self.calls.append(list(pairs))
        return super().predict(pairs)


def test_prefetched_pairs_share_the_call_and_change_nothing() -> None:
    nodes = _nodes("Bike lanes cut traffic deaths.", "However, critics argue lanes slow buses.")
    plain_nli, prefetch_nli = RecordingNLI((0.8, 0.1, 0.1)), RecordingNLI((0.8, 0.1, 0.1))
    plain = build_edges(nodes[0].text, nodes, plain_nli)
    extra = [("some evidence", "Bike lanes cut traffic deaths."), ("more evidence", nodes[0].text)]
    prefetched = build_edges(nodes[0].text, nodes, prefetch_nli, prefetch=extra)
    assert prefetched == plain
    assert len(prefetch_nli.calls) == 1 and prefetch_nli.calls[0] == [*plain_nli.calls[0], *extra]
