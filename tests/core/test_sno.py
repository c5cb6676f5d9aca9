from __future__ import annotations

import numpy as np
import pytest

from cns.core.evidence import EvidenceItem
from cns.core.graph import ROOT_ID, RelationType
from cns.core.sno import StructuredNarrativeObject
from cns.errors import EmbeddingDimensionError, GraphCycleError, UnknownNodeError, ValidationError


def test_root_node_holds_the_hypothesis() -> None:
    sno = StructuredNarrativeObject("  Continents drift.  ")
    assert sno.central_hypothesis == "Continents drift."
    assert sno.root.content == "Continents drift." and sno.root.claim_type == "central_hypothesis"
    assert list(sno.reasoning_graph.nodes) == [ROOT_ID]


def test_empty_hypothesis_is_refused() -> None:
    with pytest.raises(ValidationError, match="central_hypothesis"):
        StructuredNarrativeObject("   ")


def test_claim_ids_follow_node_count_and_duplicates_raise() -> None:
    sno = StructuredNarrativeObject("H")
    assert sno.add_claim("a") == "claim_1"
    assert sno.add_claim("b") == "claim_2"
    with pytest.raises(ValidationError, match="already exists"):
        sno.add_claim("c", claim_id="claim_1")


def test_cycle_is_refused_and_graph_stays_a_dag() -> None:
    sno = StructuredNarrativeObject("H")
    a, b = sno.add_claim("a"), sno.add_claim("b")
    sno.add_reasoning_edge(a, b)
    sno.add_reasoning_edge(b, ROOT_ID)
    with pytest.raises(GraphCycleError, match="cycle"):
        sno.add_reasoning_edge(ROOT_ID, a)
    with pytest.raises(GraphCycleError):
        sno.add_reasoning_edge(a, a)
    assert sno.get_graph_statistics()["is_dag"] is True
    assert sno.reasoning_graph.number_of_edges() == 2


def test_unknown_node_raises_with_the_id() -> None:
    sno = StructuredNarrativeObject("H")
    with pytest.raises(UnknownNodeError, match="ghost"):
        sno.add_reasoning_edge("ghost", ROOT_ID)


@pytest.mark.parametrize("strength", [-0.1, 1.01, float("nan")])
def test_edge_strength_must_be_in_unit_interval(strength: float) -> None:
    sno = StructuredNarrativeObject("H")
    a = sno.add_claim("a")
    with pytest.raises(ValidationError, match="strength"):
        sno.add_reasoning_edge(a, ROOT_ID, strength=strength)


@pytest.mark.parametrize("trust", [-0.01, 1.5, float("nan")])
def test_trust_must_be_in_unit_interval(trust: float) -> None:
    sno = StructuredNarrativeObject("H")
    with pytest.raises(ValidationError, match="trust_score"):
        sno.trust_score = trust


def test_wrong_embedding_dimension_fails_naming_the_key() -> None:
    with pytest.raises(EmbeddingDimensionError, match="embedding_dim") as info:
        StructuredNarrativeObject("H", hypothesis_embedding=np.ones(768), embedding_dim=384)
    assert info.value.details == {"key": "embedding_dim", "expected": 384, "actual": 768}


def test_embedding_is_normalised() -> None:
    sno = StructuredNarrativeObject("H", hypothesis_embedding=[3.0, 4.0])
    assert sno.hypothesis_embedding is not None
    assert np.allclose(sno.hypothesis_embedding, [0.6, 0.8])


def test_relation_type_parsing() -> None:
    assert RelationType.parse("Contradicts") is RelationType.CONTRADICTS
    assert RelationType.CONTRADICTS.is_opposing and RelationType.WEAKENS.is_opposing
    assert not RelationType.SUPPORTS.is_opposing
    with pytest.raises(ValidationError, match="refutes"):
        RelationType.parse("refutes")


def test_content_hash_ignores_id_trust_and_embedding_but_not_content() -> None:
    def build(sno_id: str, trust: float | None) -> StructuredNarrativeObject:
        sno = StructuredNarrativeObject(
            "H", sno_id=sno_id, trust_score=trust, hypothesis_embedding=[1.0, 0.0]
        )
        c = sno.add_claim("premise")
        sno.add_reasoning_edge(c, ROOT_ID, RelationType.SUPPORTS, 0.8)
        sno.add_evidence(EvidenceItem("e", source_id="doi:10.1/x"))
        return sno

    a, b = build("a", None), build("b", 0.9)
    assert a.content_hash() == b.content_hash()
    b.add_evidence(EvidenceItem("other", source_id="doi:10.1/y"))
    assert a.content_hash() != b.content_hash()


def test_duplicate_evidence_keys_are_not_added_twice() -> None:
    sno = StructuredNarrativeObject("H")
    assert sno.add_evidence(EvidenceItem("x", source_id="doi:10.1/A")) is True
    assert sno.add_evidence(EvidenceItem("y", source_id="https://doi.org/10.1/a")) is False
    assert sno.evidence_keys == frozenset({"doi:10.1/a"})


def test_graph_statistics_count_relations() -> None:
    sno = StructuredNarrativeObject("H")
    a, b = sno.add_claim("a"), sno.add_claim("b")
    sno.add_reasoning_edge(a, ROOT_ID, "supports")
    sno.add_reasoning_edge(b, ROOT_ID, "weakens")
    stats = sno.get_graph_statistics()
    assert stats["nodes"] == 3 and stats["edges"] == 2
    assert stats["density"] == pytest.approx(2 / 6)
    assert stats["relation_counts"]["weakens"] == 1 and stats["relation_counts"]["supports"] == 1
    assert stats["avg_in_degree"] == pytest.approx(2 / 3)
