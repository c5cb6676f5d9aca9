"""Provenance of synthesized claims: real offsets, unsupported claims dropped or flagged, rejection."""

from __future__ import annotations

from typing import Any

from cns.core.sno import StructuredNarrativeObject
from cns.synthesis import SynthesisEngine, audit_provenance
from cns.testing.fakes import HashEmbedder, RuleNLI, ScriptedLLM
from tests.synthesis.example_corpus import example_corpus
from tests.synthesis.synth_fixtures import answer, config, evaluator, make_pair

INVENTED = {"id": "c3", "text": "bananas cure insomnia in elderly cats", "type": "premise"}


def _llm_answer() -> str:
    claims = [
        {"id": "c1", "text": "caffeine makes workers more alert", "type": "premise"},
        {"id": "c2", "text": "caffeine disrupts sleep of workers", "type": "premise"},
        INVENTED,
    ]
    edges = [{"src": c["id"], "tgt": "root", "relation": "supports"} for c in claims]
    return answer(["E1", "E2", "E3"], claims=claims, edges=edges)


def test_every_offline_claim_points_at_real_offsets_of_its_parent_source() -> None:
    corpus = example_corpus()
    located = 0
    for pair, result in zip(corpus.pairs, corpus.results, strict=True):
        sno = result.sno
        assert sno is not None
        audit = sno.metadata["provenance_audit"]
        assert audit["verified_share"] == 1.0 and audit["hypothesis_supported"] is True
        parents = {pair.sno_a.sno_id, pair.sno_b.sno_id}
        for claim in sno.claims():
            record = claim.metadata["provenance"]
            assert record["verified"] is True and record["spans"], claim.claim_id
            if claim.claim_id != "root":
                assert {p["sno_id"] for p in record["parent_claims"]} <= parents
                assert any(s["start"] is not None for s in record["spans"]), claim.content
            for span in record["spans"]:
                if span["start"] is None:
                    continue
                text = corpus.documents[span["document_id"]].text
                assert text[span["start"] : span["end"]] == span["quote"]
                located += 1
    assert located >= 3 * len(corpus.pairs)


def _engine(policy: str, embedder: HashEmbedder, nli: RuleNLI, reply: str) -> SynthesisEngine:
    cf = config(population={"max_refinements": 0, "synthesis_unsupported_claims": policy})
    return SynthesisEngine(cf, evaluator=evaluator(cf, embedder, nli), llm=ScriptedLLM([reply]))


def test_llm_claim_no_span_supports_is_dropped(embedder: HashEmbedder, nli: RuleNLI) -> None:
    result = _engine("drop", embedder, nli, _llm_answer()).synthesize(make_pair(embedder, nli))
    sno = result.sno
    assert sno is not None and sno.metadata["synthesizer"] == "llm"
    assert "c3" not in sno.reasoning_graph
    audit = sno.metadata["provenance_audit"]
    assert audit["dropped"] == [{"claim_id": "c3", "text": INVENTED["text"]}]
    assert (audit["claims"], audit["verified"]) == (3, 2)
    c1 = sno.get_claim("c1").metadata["provenance"]
    assert c1["verified"] and c1["spans"][0]["match"] == "verbatim"
    assert {"sno_id": "a", "claim_id": "claim_1"} in c1["parent_claims"]


def test_llm_claim_no_span_supports_is_flagged_when_configured(embedder: HashEmbedder, nli: RuleNLI) -> None:
    result = _engine("flag", embedder, nli, _llm_answer()).synthesize(make_pair(embedder, nli))
    sno = result.sno
    assert sno is not None and "c3" in sno.reasoning_graph
    record = sno.get_claim("c3").metadata["provenance"]
    assert record["verified"] is False and record["spans"] == [] and "no evidence span" in record["flagged"]
    assert sno.metadata["provenance_audit"]["flagged"] == [{"claim_id": "c3", "text": INVENTED["text"]}]


def test_synthesis_whose_hypothesis_no_evidence_supports_is_rejected(
    embedder: HashEmbedder, nli: RuleNLI
) -> None:
    reply = answer(
        ["E1", "E2", "E3"], hypothesis="purple elephants dance quietly under moonlit bridges tonight"
    )
    result = _engine("drop", embedder, nli, reply).synthesize(make_pair(embedder, nli))
    assert result.accepted is False and result.sno is not None
    assert any("hypothesis is not supported by any evidence span" in r for r in result.reasons)
    assert result.sno.metadata["provenance_audit"]["hypothesis_supported"] is False
    assert result.sno.metadata["rejection"] == result.reasons


def test_offline_template_hypothesis_must_quote_real_spans(embedder: HashEmbedder, nli: RuleNLI) -> None:
    pair = make_pair(embedder, nli)
    fake: dict[str, Any] = {"hypothesis_quotes": ["caffeine turns workers into poets"]}
    sno = StructuredNarrativeObject(
        "Account A states “caffeine turns workers into poets” against account B", sno_id="x", metadata=fake
    )
    audit = audit_provenance(sno, pair, nli)
    assert audit.hypothesis_supported is False and audit.rejection is not None
    assert "not supported by any evidence span" in audit.rejection
