"""Hypothesis fuzzing of LLM extraction: any answer gives an SNO, from the LLM or the fallback.

``LLMExtractor`` promises that an unusable answer degrades quality, never availability: it falls
back to the heuristic extractor. Property: for any answer text — prose, broken JSON, and
schema-shaped objects with blank or reserved ids, whitespace-only texts, unknown relations,
cycles, invented quotes, NUL or unpaired surrogates — ``extract`` followed by ``build_sno`` gives
an SNO whose JSON is storable and round-trips; no exception escapes. Answers that once escaped as
a ``ValidationError`` from ``build_sno`` (after the fallback could no longer help) are kept as
``@example`` regressions.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cns.core.sno import StructuredNarrativeObject
from cns.core.storable import json_problem
from cns.ingestion import HeuristicExtractor, LLMExtractor, build_sno, make_document
from cns.ingestion.llm_prompt import RELATIONS
from cns.testing.fakes import HashEmbedder, RuleNLI, ScriptedLLM
from tests.ingestion.ingest_helpers import DRIFT_TEXT
from tests.security.fuzz_support import ANSWERS, Outcomes, fuzz_settings

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(180)]

DOCUMENT = make_document(DRIFT_TEXT, "drift.txt")
_SENTENCES = [s.strip() for s in DRIFT_TEXT.replace("\n", " ").split(".") if len(s.strip()) > 12]
_IDS = st.sampled_from(["c1", "c2", "c3", "root", " c1", "", "C1"])
_TEXTS = st.one_of(
    st.sampled_from(_SENTENCES),
    st.sampled_from(["          ", "\t\n   ", "a\x00b claim", "claim \ud800 text", "x" * 5000]),
    st.text(max_size=40),
)
_RELATIONS = st.sampled_from([*RELATIONS, "Supports", " implies ", "causes", ""])


@st.composite
def extraction_answers(draw: st.DrawFn) -> dict[str, Any]:
    """Objects shaped like the extraction schema, with hostile values in every field."""
    claims = draw(
        st.lists(st.fixed_dictionaries({"id": _IDS, "text": _TEXTS}, optional={"type": _TEXTS}), max_size=4)
    )
    edge = st.fixed_dictionaries({"src": _IDS, "tgt": _IDS, "relation": _RELATIONS})
    quote = st.fixed_dictionaries({"claim_id": _IDS, "quote": _TEXTS})
    return {
        "hypothesis": draw(_TEXTS),
        "claims": claims,
        "edges": draw(st.lists(edge, max_size=4)),
        "evidence": draw(st.lists(quote, max_size=4)),
    }


WHITESPACE_CLAIM = {
    "hypothesis": "Continents drift over geological time.",
    "claims": [{"id": "c1", "text": "     "}],
    "edges": [],
    "evidence": [],
}
WHITESPACE_HYPOTHESIS = {"hypothesis": " " * 12, "claims": [], "edges": [], "evidence": []}
UNSTORABLE_CLAIM = {
    "hypothesis": "Continents drift over geological time.",
    "claims": [{"id": "c1", "text": "fossils \ud800 match"}],
    "edges": [],
    "evidence": [],
}


def test_any_llm_answer_gives_a_storable_sno() -> None:
    embedder = HashEmbedder(384)
    outcomes = Outcomes()

    @fuzz_settings(400)
    @given(answer=st.one_of(extraction_answers().map(json.dumps), ANSWERS))
    @example(answer=json.dumps(WHITESPACE_CLAIM))  # was ValidationError: claim 'c1' has empty content
    @example(answer=json.dumps(WHITESPACE_HYPOTHESIS))  # was ValidationError: empty central_hypothesis
    @example(answer=json.dumps(UNSTORABLE_CLAIM))  # was UnicodeEncodeError hashing the SNO
    def run(answer: str) -> None:
        extractor = LLMExtractor(ScriptedLLM([answer]), HeuristicExtractor(embedder, RuleNLI()))
        extraction = extractor.extract(DOCUMENT)
        sno = build_sno(DOCUMENT, extraction, sno_id="s", embedder=embedder, embedding_dim=384, backends={})
        data = sno.to_dict()
        assert json_problem(data) is None, json_problem(data)
        assert StructuredNarrativeObject.from_dict(json.loads(json.dumps(data))).to_dict() == data
        outcomes.add("llm" if extraction.extractor == "llm" else "heuristic fallback")

    run()
    assert outcomes.counts["llm"] > 0 and outcomes.counts["heuristic fallback"] > 0
    outcomes.record(
        "llm-answer:extraction",
        "LLM extraction answers: any text and schema-shaped objects with blank/reserved ids, "
        "whitespace texts, cycles, unknown relations, invented quotes, NUL, surrogates",
        "an SNO every time (the LLM's or the heuristic fallback's), storable and round-tripping",
    )
