"""OpenAICompatibleLLM against the real HTTP fake server (no mocks of httpx)."""

from __future__ import annotations

import itertools
import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr
from structlog.testing import capture_logs

from cns.config.settings import LLMConfig
from cns.errors import ConfigError, LLMResponseError, ModelUnavailableError
from cns.models.llm_openai import OpenAICompatibleLLM, normalise_base_url
from cns.ports import LLMClient
from cns.testing.fake_openai_server import FakeOpenAIServer, FakeReply

BACKOFF = 0.05
MESSAGES = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello"}]
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["claim", "score"],
    "properties": {"claim": {"type": "string"}, "score": {"type": "number", "minimum": 0, "maximum": 1}},
}


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as fake:
        yield fake


def _client(server: FakeOpenAIServer, **overrides: Any) -> OpenAICompatibleLLM:
    options: dict[str, Any] = {
        "api_key": SecretStr("sk-test-123"),
        "timeout_seconds": 2.0,
        "max_retries": 3,
        "backoff_seconds": BACKOFF,
        "max_retry_after_seconds": 1.0,
    }
    options.update(overrides)
    return OpenAICompatibleLLM(server.base_url, "test-model", **options)


@pytest.fixture
def client(server: FakeOpenAIServer) -> Iterator[OpenAICompatibleLLM]:
    with _client(server) as llm:
        yield llm


def _gaps(server: FakeOpenAIServer) -> list[float]:
    times = [r.received_at for r in server.requests]
    return [b - a for a, b in itertools.pairwise(times)]


def test_success_sends_model_messages_and_bearer(
    server: FakeOpenAIServer, client: OpenAICompatibleLLM
) -> None:
    server.push("hi there")
    assert client.complete(MESSAGES, temperature=0.5, max_tokens=64) == "hi there"
    (request,) = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-test-123"
    body = request.json
    assert body["model"] == "test-model"
    assert body["messages"] == MESSAGES
    assert body["temperature"] == 0.5
    assert body["max_tokens"] == 64
    assert "response_format" not in body
    assert isinstance(client, LLMClient)
    assert client.name == "test-model"


def test_no_authorization_header_without_key(server: FakeOpenAIServer) -> None:
    server.push("ok")
    with _client(server, api_key=None, temperature=0.7, max_tokens=99) as llm:
        llm.complete(MESSAGES)
    request = server.requests[0]
    assert "authorization" not in request.headers
    assert (request.json["temperature"], request.json["max_tokens"]) == (0.7, 99)  # configured defaults


@pytest.mark.parametrize("suffix", ["", "/", "/v1", "/v1/", "/v1/chat/completions"])
def test_base_url_with_or_without_v1(server: FakeOpenAIServer, suffix: str) -> None:
    root = server.base_url.removesuffix("/v1")
    assert normalise_base_url(root + suffix) == server.base_url
    server.push("ok")
    with OpenAICompatibleLLM(root + suffix, "m", backoff_seconds=0) as llm:
        assert llm.complete(MESSAGES) == "ok"
    assert server.requests[0].path == "/v1/chat/completions"


def test_retries_503_with_exponential_backoff(server: FakeOpenAIServer, client: OpenAICompatibleLLM) -> None:
    server.push(FakeReply.error(503), FakeReply.error(503), "third time lucky")
    with capture_logs() as logs:
        assert client.complete(MESSAGES) == "third time lucky"
    assert len(server.requests) == 3
    first, second = _gaps(server)
    assert first >= BACKOFF
    assert second >= 2 * BACKOFF
    done = [e for e in logs if e["event"] == "llm.call.complete"]
    assert done[0]["attempt"] == 3
    assert done[0]["model"] == "test-model"
    assert "latency_ms" in done[0]
    assert "sk-test-123" not in json.dumps(logs, default=str)
    assert "hello" not in json.dumps(done, default=str)  # prompts are hashed, not logged


def test_429_honours_retry_after(server: FakeOpenAIServer, client: OpenAICompatibleLLM) -> None:
    server.push(FakeReply.error(429, "slow down", retry_after=0.3), "ok")
    assert client.complete(MESSAGES) == "ok"
    assert _gaps(server)[0] >= 0.3


def test_retry_after_is_capped(server: FakeOpenAIServer) -> None:
    server.push(FakeReply.error(429, retry_after=3600), "ok")
    with _client(server, max_retry_after_seconds=0.2) as llm:
        started = time.monotonic()
        assert llm.complete(MESSAGES) == "ok"
    assert 0.2 <= _gaps(server)[0] < 1.5
    assert time.monotonic() - started < 2.0


def test_retries_exhausted_raise_model_unavailable(server: FakeOpenAIServer) -> None:
    server.push(*[FakeReply.error(500, "kaput")] * 2)
    with _client(server, max_retries=1) as llm, pytest.raises(ModelUnavailableError, match="kaput"):
        llm.complete(MESSAGES)
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    ("status", "error_type", "match"),
    [
        (400, LLMResponseError, "maximum context length"),
        (401, ConfigError, "llm.api_key"),
        (403, ConfigError, "llm.api_key"),
        (404, ModelUnavailableError, "llm.model"),
        (422, LLMResponseError, "maximum context length"),
    ],
)
def test_other_4xx_fail_immediately(
    server: FakeOpenAIServer,
    client: OpenAICompatibleLLM,
    status: int,
    error_type: type[Exception],
    match: str,
) -> None:
    server.push(FakeReply.error(status, "maximum context length exceeded"), "never sent")
    with pytest.raises(error_type, match=match) as info:
        client.complete(MESSAGES)
    assert len(server.requests) == 1
    assert "maximum context length exceeded" in str(info.value)


def test_timeout_on_slow_answer(server: FakeOpenAIServer) -> None:
    server.push(FakeReply(content="late", delay=1.0), FakeReply(content="late", delay=1.0))
    started = time.monotonic()
    with (
        _client(server, timeout_seconds=0.2, max_retries=1) as llm,
        pytest.raises(ModelUnavailableError) as info,
    ):
        llm.complete(MESSAGES)
    assert len(server.requests) == 2
    assert time.monotonic() - started < 1.5
    assert "Timeout" in str(info.value)
    assert "llm.timeout_seconds" in str(info.value)


def test_dropped_connection_is_retried(server: FakeOpenAIServer, client: OpenAICompatibleLLM) -> None:
    server.push(FakeReply(disconnect=True), "recovered")
    assert client.complete(MESSAGES) == "recovered"
    assert len(server.requests) == 2


def test_connection_refused_raises_model_unavailable() -> None:
    with socket.socket() as sock:  # find a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    llm = OpenAICompatibleLLM(f"http://127.0.0.1:{port}", "m", max_retries=1, backoff_seconds=0.01)
    with llm, pytest.raises(ModelUnavailableError, match="llm.base_url"):
        llm.complete(MESSAGES)


def test_non_json_body_is_a_response_error(server: FakeOpenAIServer, client: OpenAICompatibleLLM) -> None:
    server.push(FakeReply(body="<html>proxy error</html>"))
    with pytest.raises(LLMResponseError, match="non-JSON"):
        client.complete(MESSAGES)


def test_null_content_is_a_response_error(server: FakeOpenAIServer, client: OpenAICompatibleLLM) -> None:
    server.push(FakeReply(content=None))
    with pytest.raises(LLMResponseError, match="content"):
        client.complete(MESSAGES)


def test_json_mode_requests_json_and_validates(server: FakeOpenAIServer, client: OpenAICompatibleLLM) -> None:
    server.push('Sure! ```json\n{"claim": "x", "score": 0.5}\n```')
    assert client.complete_json(MESSAGES, SCHEMA) == {"claim": "x", "score": 0.5}
    body = server.requests[0].json
    assert body["response_format"] == {"type": "json_object"}
    assert "JSON schema" in body["messages"][-1]["content"]
    assert body["messages"][-1]["content"].startswith("hello")
    assert MESSAGES[-1]["content"] == "hello"  # the caller's messages are not mutated


def test_complete_with_schema_returns_json_text(
    server: FakeOpenAIServer, client: OpenAICompatibleLLM
) -> None:
    server.push('{"claim": "x", "score": 1,}')
    assert json.loads(client.complete(MESSAGES, json_schema=SCHEMA)) == {"claim": "x", "score": 1}


def test_malformed_json_is_repaired_once(server: FakeOpenAIServer, client: OpenAICompatibleLLM) -> None:
    server.push("I think the claim is x", '{"claim": "x", "score": 0.9}')
    assert client.complete_json(MESSAGES, SCHEMA) == {"claim": "x", "score": 0.9}
    assert len(server.requests) == 2
    repair_messages = server.requests[1].json["messages"]
    assert repair_messages[-2] == {"role": "assistant", "content": "I think the claim is x"}
    assert "not valid" in repair_messages[-1]["content"]


def test_schema_violation_is_sent_back(server: FakeOpenAIServer, client: OpenAICompatibleLLM) -> None:
    server.push('{"claim": "x", "score": 7}', '{"claim": "x", "score": 0.7}')
    assert client.complete_json(MESSAGES, SCHEMA)["score"] == 0.7
    assert "$.score: 7 is above the maximum 1" in server.requests[1].json["messages"][-1]["content"]


def test_invalid_twice_raises_with_raw_text(server: FakeOpenAIServer, client: OpenAICompatibleLLM) -> None:
    server.push('{"claim": 3}', "still not json")
    with pytest.raises(LLMResponseError) as info:
        client.complete_json(MESSAGES, SCHEMA)
    assert info.value.details["raw"] == "still not json"
    assert len(server.requests) == 2


def test_response_format_rejected_falls_back_without_it(
    server: FakeOpenAIServer, client: OpenAICompatibleLLM
) -> None:
    server.push(FakeReply.error(400, "unknown field: response_format"), '{"claim": "y", "score": 0}')
    assert client.complete_json(MESSAGES, SCHEMA) == {"claim": "y", "score": 0}
    first, second = (r.json for r in server.requests)
    assert "response_format" in first
    assert "response_format" not in second
    server.push('{"claim": "z", "score": 0}')
    client.complete_json(MESSAGES, SCHEMA)
    assert "response_format" not in server.requests[-1].json  # remembered for this client


def test_usage_is_counted(server: FakeOpenAIServer, client: OpenAICompatibleLLM) -> None:
    server.push(
        FakeReply(content="a", prompt_tokens=10, completion_tokens=3),
        FakeReply(content="b", prompt_tokens=5, completion_tokens=2),
        FakeReply(body={"choices": [{"message": {"content": "no usage"}}]}),
    )
    with capture_logs() as logs:
        for _ in range(3):
            client.complete(MESSAGES)
    usage = client.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens, usage.calls) == (15, 5, 20, 3)
    done = [e for e in logs if e["event"] == "llm.call.complete"]
    assert [e["prompt_tokens"] for e in done] == [10, 5, 0]


def test_from_config_builds_a_working_client(server: FakeOpenAIServer) -> None:
    config = LLMConfig(
        backend="openai",
        base_url=server.base_url,
        model="cfg-model",
        api_key=SecretStr("sk-cfg"),
        backoff_seconds=0,
    )
    server.push("ok")
    with OpenAICompatibleLLM.from_config(config) as llm:
        assert llm.complete(MESSAGES) == "ok"
    assert server.requests[0].headers["authorization"] == "Bearer sk-cfg"
    assert server.requests[0].json["model"] == "cfg-model"


@pytest.mark.parametrize(
    ("base_url", "model", "key"),
    [(None, "m", "llm.base_url"), ("  ", "m", "llm.base_url"), ("localhost:8000", "m", "llm.base_url"),
     ("http://localhost:8000", None, "llm.model"), ("http://localhost:8000", "", "llm.model")],
)  # fmt: skip
def test_from_config_names_the_missing_key(base_url: str | None, model: str | None, key: str) -> None:
    config = LLMConfig(backend="openai", base_url=base_url, model=model)
    with pytest.raises(ConfigError, match=key) as info:
        OpenAICompatibleLLM.from_config(config)
    assert info.value.details["key"] == key
