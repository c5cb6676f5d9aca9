from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cns.core.evidence import EvidenceItem
from cns.core.graph import ROOT_ID, RelationType
from cns.core.serialization import LINKS_KEY, migrate
from cns.core.sno import SNO_SCHEMA_VERSION, StructuredNarrativeObject
from cns.errors import ValidationError

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40).filter(
    lambda s: s.strip() != ""
)


@st.composite
def snos(draw: st.DrawFn) -> StructuredNarrativeObject:
    sno = StructuredNarrativeObject(
        draw(text),
        trust_score=draw(st.none() | st.floats(0, 1)),
        hypothesis_embedding=draw(st.none() | st.lists(st.floats(0.1, 1), min_size=4, max_size=4)),
        metadata={"source": draw(text)},
    )
    n = draw(st.integers(0, 6))
    ids = [sno.add_claim(draw(text), draw(st.sampled_from(["assertion", "premise"]))) for _ in range(n)]
    nodes = [*ids, ROOT_ID]
    # edges only from earlier to later nodes in this order, so the graph is a DAG by construction
    for i, src in enumerate(nodes[:-1]):
        for tgt in draw(st.lists(st.sampled_from(nodes[i + 1 :]), max_size=2, unique=True)):
            sno.add_reasoning_edge(src, tgt, draw(st.sampled_from(list(RelationType))), draw(st.floats(0, 1)))
    for content in draw(st.lists(text, max_size=4)):
        sno.add_evidence(EvidenceItem(content, source_id=draw(st.sampled_from(["", "doi:10.1/a", "doc-1"]))))
    return sno


@given(snos())
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
def test_round_trip_through_json_preserves_everything(sno: StructuredNarrativeObject) -> None:
    data = json.loads(json.dumps(sno.to_dict()))
    again = StructuredNarrativeObject.from_dict(data)
    assert again.to_dict() == sno.to_dict()
    assert again.content_hash() == sno.content_hash()
    assert again.trust_score == sno.trust_score
    if sno.hypothesis_embedding is not None:
        assert again.hypothesis_embedding is not None
        assert np.allclose(again.hypothesis_embedding, sno.hypothesis_embedding)


def test_graph_is_node_link_with_links_key() -> None:
    sno = StructuredNarrativeObject("H")
    sno.add_reasoning_edge(sno.add_claim("a"), ROOT_ID, "implies", 0.5)
    graph = sno.to_dict()["reasoning_graph"]
    assert LINKS_KEY == "links" and "links" in graph and "edges" not in graph
    assert graph["links"][0]["reasoning_edge"]["relation_type"] == "implies"


def test_version_1_files_are_migrated() -> None:
    old = {"central_hypothesis": "H", "reasoning_graph": {"nodes": [], "links": []}, "evidence_set": []}
    sno = StructuredNarrativeObject.from_dict(old)
    assert sno.sno_schema_version == SNO_SCHEMA_VERSION and sno.metadata == {}
    assert migrate(old)["status"] == "candidate"


def test_newer_schema_is_refused_clearly() -> None:
    with pytest.raises(ValidationError, match="newer"):
        StructuredNarrativeObject.from_dict(
            {"central_hypothesis": "H", "reasoning_graph": {}, "sno_schema_version": SNO_SCHEMA_VERSION + 1}
        )


def test_missing_keys_are_named() -> None:
    with pytest.raises(ValidationError, match="reasoning_graph"):
        StructuredNarrativeObject.from_dict({"central_hypothesis": "H"})


def test_tampered_content_is_detected() -> None:
    sno = StructuredNarrativeObject("H")
    sno.add_reasoning_edge(sno.add_claim("a"), ROOT_ID)
    data = sno.to_dict()
    data["reasoning_graph"]["nodes"][1]["claim"]["content"] = "changed"
    with pytest.raises(ValidationError, match="content_hash"):
        StructuredNarrativeObject.from_dict(data)


def test_cycle_in_file_is_refused() -> None:
    sno = StructuredNarrativeObject("H")
    a = sno.add_claim("a")
    sno.add_reasoning_edge(a, ROOT_ID)
    data = sno.to_dict()
    data.pop("content_hash")
    data["reasoning_graph"]["links"].append(
        {
            "source": ROOT_ID,
            "target": a,
            "reasoning_edge": {"source": ROOT_ID, "target": a, "relation_type": "supports"},
        }
    )
    with pytest.raises(ValidationError, match="cycle"):
        StructuredNarrativeObject.from_dict(data)
