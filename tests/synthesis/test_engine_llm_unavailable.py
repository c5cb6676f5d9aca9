"""The engine's hook for an LLM that becomes unreachable mid-run: offline synthesis, said on the SNO."""

from __future__ import annotations

from cns.errors import ModelUnavailableError
from cns.synthesis import SynthesisEngine
from cns.testing.fakes import HashEmbedder, RuleNLI, ScriptedLLM
from tests.synthesis.synth_fixtures import config, evaluator, make_pair


def engine(llm: ScriptedLLM, embedder: HashEmbedder, nli: RuleNLI, on_unavailable: str) -> SynthesisEngine:
    cf = config(llm={"on_unavailable": on_unavailable})
    return SynthesisEngine(cf, evaluator=evaluator(cf, embedder, nli), llm=llm)


def test_unreachable_llm_falls_back_to_the_offline_synthesizer_at_once(
    embedder: HashEmbedder, nli: RuleNLI
) -> None:
    pair = make_pair(embedder, nli)
    llm = ScriptedLLM(default=ModelUnavailableError("connection refused at http://127.0.0.1:11434/v1"))
    offline = SynthesisEngine(config(), evaluator=evaluator(config(), embedder, nli)).synthesize(pair)
    result = engine(llm, embedder, nli, "fallback").synthesize(pair)
    assert len(llm.calls) == 1  # no refinement rounds against a server that is down
    assert result.sno is not None and offline.sno is not None
    assert (
        result.sno.central_hypothesis == offline.sno.central_hypothesis
        and result.accepted == offline.accepted
    )
    meta = result.sno.metadata
    assert meta["synthesizer"] == "offline"
    assert (
        meta["synthesizer_fallback"]
        == "offline (llm unavailable: connection refused at http://127.0.0.1:11434/v1)"
    )


def test_unreachable_llm_with_fail_is_a_rejected_attempt_naming_the_cause(
    embedder: HashEmbedder, nli: RuleNLI
) -> None:
    pair = make_pair(embedder, nli)
    llm = ScriptedLLM(default=ModelUnavailableError("connection refused"))
    result = engine(llm, embedder, nli, "fail").synthesize(pair)
    assert len(llm.calls) == 1 and not result.accepted and result.sno is None
    assert result.reasons == ["connection refused"]
