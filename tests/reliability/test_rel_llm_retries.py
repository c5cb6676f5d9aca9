"""R20: transient LLM errors are retried with exponential backoff; permanent ones fail at once.

A real HTTP round-trip (``cns.testing.fake_openai_server``) into the production client, driven by
the synthesis engine, so the retry path is the one a worker runs. Jitter is off (the default).
"""

from __future__ import annotations

import itertools
import time

import pytest
import structlog

from cns.errors import LLMResponseError, ModelUnavailableError
from cns.models.llm_openai import OpenAICompatibleLLM
from cns.synthesis import SynthesisEngine
from cns.testing.fake_openai_server import FakeOpenAIServer, FakeReply
from cns.testing.fakes import HashEmbedder, RuleNLI
from tests.reliability.reliability_support import record
from tests.synthesis.synth_fixtures import answer, config, evaluator, make_pair, reference_of

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(60)]


def client(server: FakeOpenAIServer, *, max_retries: int = 3, backoff: float = 1.0) -> OpenAICompatibleLLM:
    return OpenAICompatibleLLM(
        server.base_url, "fake-model", api_key="sk-test", max_retries=max_retries, backoff_seconds=backoff
    )


def test_r20_two_503s_then_ok_succeeds_on_attempt_three_with_backoff() -> None:
    embedder, nli = HashEmbedder(384), RuleNLI()
    pair = make_pair(embedder, nli)
    cfg = config()
    with FakeOpenAIServer() as server, client(server) as llm:
        server.push(FakeReply.error(503), FakeReply.error(503), answer(["E1", "E2", "E3"]))
        engine = SynthesisEngine(cfg, evaluator=evaluator(cfg, embedder, nli), llm=llm)
        with structlog.testing.capture_logs() as logs:
            result = engine.synthesize(pair, reference_of([pair.sno_a, pair.sno_b], cfg))
        times = [r.received_at for r in server.requests]
    assert result.accepted and result.sno is not None, result.reasons
    assert len(times) == 3
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert gaps[0] >= 1.0 and gaps[1] >= 2.0, gaps
    completed = [e for e in logs if e["event"] == "llm.call.complete"]
    assert [e["attempt"] for e in completed] == [3]
    assert [e["attempt"] for e in logs if e["event"] == "llm.call.retry"] == [1, 2]
    record(
        "R20",
        "LLM answers 503, 503, then OK (fake OpenAI server, jitter off)",
        f"synthesis accepted on attempt 3; backoff gaps {gaps[0]:.2f} s, {gaps[1]:.2f} s; one synthesis",
        lost=0 if result.accepted else 1,
        duplicated=len(completed) - 1,
    )


@pytest.mark.parametrize("status", [400, 422])
def test_r20_permanent_4xx_fails_at_once_without_retry(status: int) -> None:
    with FakeOpenAIServer() as server, client(server) as llm:
        server.push(FakeReply.error(status, "bad request: unknown parameter"), answer(["E1"]))
        start = time.monotonic()
        with pytest.raises(LLMResponseError, match=f"HTTP {status}"):
            llm.complete([{"role": "user", "content": "hi"}])
        elapsed = time.monotonic() - start
        assert len(server.requests) == 1 and server.pending == 1 and elapsed < 0.5
    record(
        f"R20[{status}]",
        f"LLM answers a permanent HTTP {status}",
        f"LLMResponseError after 1 request in {elapsed:.2f} s, no retry",
        lost=0,
        duplicated=0,
    )


def test_r20_exhausted_retries_fail_with_the_last_error_recorded() -> None:
    with (
        FakeOpenAIServer(default=FakeReply.error(503, "overloaded")) as server,
        client(server, max_retries=2, backoff=0.05) as llm,
    ):
        with pytest.raises(ModelUnavailableError) as failed:
            llm.complete([{"role": "user", "content": "hi"}])
        assert len(server.requests) == 3
    assert "failed 3 attempt(s); last: HTTP 503: overloaded" in failed.value.message
    record(
        "R20[exhausted]",
        "LLM answers 503 on every attempt (max_retries 2)",
        "ModelUnavailableError after 3 requests; message keeps the last error (HTTP 503: overloaded)",
        lost=0,
        duplicated=0,
    )
