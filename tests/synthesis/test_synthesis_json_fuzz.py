"""Hypothesis fuzzing of synthesis answers: any answer is a finding for the model, never an abort.

The engine parses the LLM's JSON itself (:mod:`cns.synthesis.candidate`) and answers every flaw
with a finding that goes back to the model in a refinement round. Properties:

* ``build_candidate`` on any parsed JSON object returns a candidate or findings, never raises;
* ``SynthesisEngine.synthesize`` with a model that answers anything (prose, broken JSON,
  schema-shaped objects with blank ids or texts, foreign evidence ids, cycles, NUL, unpaired
  surrogates) returns a result recorded as ``accepted``/``rejected`` — not an ``error`` attempt,
  which would end the refinement rounds early — and an accepted SNO is storable and cites only
  ``E_A ∪ E_B`` while keeping ``E_A ∩ E_B``.

Answers that once aborted a synthesis are kept as ``@example`` regressions.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cns.core.storable import json_problem
from cns.synthesis import SynthesisEngine
from cns.synthesis.candidate import build_candidate
from cns.synthesis.prompt import EvidenceCatalog
from cns.testing.fakes import HashEmbedder, RuleNLI, ScriptedLLM
from tests.security.fuzz_support import ANSWERS, JSON_VALUES, Outcomes, fuzz_settings
from tests.synthesis.synth_fixtures import answer, config, evaluator, make_pair, reference_of

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(180)]

EMBEDDER, NLI = HashEmbedder(384), RuleNLI()
PAIR = make_pair(EMBEDDER, NLI)
CATALOG = EvidenceCatalog.for_pair(PAIR)
_IDS = st.sampled_from(["c1", "c2", "root", " ", "c1 ", "E1"])
_TEXTS = st.one_of(
    st.sampled_from(["caffeine makes workers more alert", "   ", "a\x00b", "sleep \ud800 loss", ""]),
    st.text(max_size=30),
)
_EVIDENCE = st.sampled_from([*CATALOG.aliases, "e1", " E2 ", "E99", "doi:10.666/x", "", "\x00"])


@st.composite
def synthesis_answers(draw: st.DrawFn) -> dict[str, Any]:
    claim = st.fixed_dictionaries({"id": _IDS, "text": _TEXTS}, optional={"type": _TEXTS})
    edge = st.fixed_dictionaries(
        {"src": _IDS, "tgt": _IDS, "relation": st.sampled_from(["supports", "contradicts", "causes", ""])}
    )
    hypothesis = st.one_of(
        st.just("caffeine makes workers more alert by day yet disrupts sleep of workers at night"), _TEXTS
    )
    return {
        "hypothesis": draw(hypothesis),
        "claims": draw(st.lists(claim, max_size=3)),
        "edges": draw(st.lists(edge, max_size=3)),
        "evidence_ids": draw(st.lists(_EVIDENCE, max_size=4)),
    }


BLANK_CLAIM = answer(list(CATALOG.aliases), claims=[{"id": "c1", "text": "   "}], edges=[])
BLANK_ID = answer(list(CATALOG.aliases), claims=[{"id": "  ", "text": "caffeine helps"}], edges=[])
SURROGATE = answer(list(CATALOG.aliases), claims=[{"id": "c1", "text": "sleep \ud800 loss"}], edges=[])
GOOD = answer(list(CATALOG.aliases))  # accepted by the fixtures' evaluator


@fuzz_settings(400)
@given(data=st.one_of(synthesis_answers(), st.dictionaries(st.text(max_size=12), JSON_VALUES, max_size=5)))
@example(data=json.loads(BLANK_CLAIM))  # was ValidationError "claim 'c1' has empty content"
@example(data=json.loads(BLANK_ID))  # was ValidationError "claim_id must be a non-empty string"
@example(data=json.loads(SURROGATE))  # was a candidate whose to_dict() raised UnicodeEncodeError
def test_build_candidate_gives_a_candidate_or_findings(data: dict[str, Any]) -> None:
    check = build_candidate(data, PAIR, CATALOG, sno_id="s", embedder=EMBEDDER)
    assert (check.sno is None) == bool(check.findings)
    assert all(isinstance(f, str) and f for f in check.findings)
    if check.sno is not None:
        assert json_problem(check.sno.to_dict()) is None


def test_any_answer_is_a_finding_or_a_candidate_never_an_aborted_synthesis() -> None:
    outcomes = Outcomes()
    cfg = config()

    @fuzz_settings(150)
    @given(
        answers=st.lists(
            st.one_of(st.just(GOOD), synthesis_answers().map(json.dumps), ANSWERS), min_size=1, max_size=3
        )
    )
    @example(answers=[SURROGATE, GOOD])  # a flawed round, then an acceptable one
    @example(answers=[BLANK_CLAIM])  # was ValidationError "empty content": an 'error' attempt
    @example(answers=[BLANK_ID])  # was ValidationError "claim_id must be a non-empty string"
    @example(answers=[SURROGATE])  # was a candidate whose to_dict() (content hash) raised UnicodeEncodeError
    def run(answers: list[str]) -> None:
        engine = SynthesisEngine(
            cfg, evaluator=evaluator(cfg, EMBEDDER, NLI), llm=ScriptedLLM(answers, default=answers[-1])
        )
        result = engine.synthesize(PAIR, reference_of([PAIR.sno_a, PAIR.sno_b]), force=True)
        record = engine.attempt_log.get(*PAIR.key)
        assert record is not None and record.outcome != "error", result.reasons
        assert result.attempts == 1 + cfg.population.max_refinements or result.sno is not None
        if result.accepted:
            assert result.sno is not None and json_problem(result.sno.to_dict()) is None
            keys = result.sno.evidence_keys
            assert keys <= {item.key for item in CATALOG.items} and CATALOG.shared_keys <= keys
        outcomes.add(record.outcome)

    run()
    assert outcomes.counts["rejected"] > 0 and outcomes.counts["accepted"] > 0
    outcomes.record(
        "llm-answer:synthesis",
        "synthesis answers over refinement rounds: any text and schema-shaped objects with blank or "
        "reserved ids, foreign evidence, cycles, NUL, surrogates",
        "accepted (storable, evidence within E_A ∪ E_B, keeps E_A ∩ E_B) or rejected with findings; "
        "never an aborted ('error') attempt",
    )
