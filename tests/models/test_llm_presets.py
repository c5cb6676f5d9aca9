"""Backend presets of the one OpenAI-compatible client: config, default URLs, structured output."""

from __future__ import annotations

from typing import Any

import pytest

from cns.config import CNSConfig
from cns.config.settings import LLMConfig
from cns.errors import ConfigError, ModelUnavailableError
from cns.models import load_llm
from cns.models.llm_openai import OpenAICompatibleLLM
from cns.models.llm_presets import PRESETS, resolve_llm_settings, response_format
from cns.testing.fake_openai_server import FakeOpenAIServer, FakeReply, refused_url

SCHEMA: dict[str, Any] = {"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}}
MESSAGES = [{"role": "user", "content": "say a"}]


@pytest.mark.parametrize(
    ("backend", "url", "mode"),
    [
        ("ollama", "http://127.0.0.1:11434/v1", "json_schema"),
        ("llamacpp", "http://127.0.0.1:8080/v1", "json_schema"),
        ("vllm", "http://127.0.0.1:8000/v1", "json_schema"),
    ],
)
def test_local_presets_know_their_address_and_json_mode(backend: str, url: str, mode: str) -> None:
    resolved = resolve_llm_settings(LLMConfig(backend=backend, model="m"))  # type: ignore[arg-type]
    assert (resolved.base_url, resolved.structured_output, resolved.base_url_from_preset) == (url, mode, True)
    assert not PRESETS[backend].api_key_required


def test_explicit_settings_override_the_preset() -> None:
    config = LLMConfig(
        backend="ollama",
        base_url="http://gpu-box:11434/v1",
        model="qwen2.5:7b",
        structured_output="json_object",
    )
    resolved = resolve_llm_settings(config)
    assert (resolved.base_url, resolved.structured_output, resolved.base_url_from_preset) == (
        "http://gpu-box:11434/v1",
        "json_object",
        False,
    )


def test_openai_needs_a_url_and_every_backend_a_model() -> None:
    with pytest.raises(ConfigError) as no_url:
        resolve_llm_settings(LLMConfig(backend="openai", model="gpt-4o-mini"))
    assert (
        no_url.value.details["key"] == "llm.base_url" and "ollama, llamacpp or vllm" in no_url.value.message
    )
    with pytest.raises(ConfigError) as no_model:
        resolve_llm_settings(LLMConfig(backend="ollama"))
    assert no_model.value.details["key"] == "llm.model"
    assert "llama3.2:3b" in no_model.value.message and "cns llm check" in no_model.value.message


def test_unknown_backend_is_refused_naming_the_choices() -> None:
    with pytest.raises(ConfigError) as caught:
        CNSConfig(llm={"backend": "lmstudio"})
    assert caught.value.details["key"] == "llm.backend" and "ollama" in caught.value.message


def test_nested_env_variables_select_and_tune_a_preset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNS_LLM__BACKEND", "vllm")
    monkeypatch.setenv("CNS_LLM__MODEL", "Qwen/Qwen2.5-7B-Instruct")
    monkeypatch.setenv("CNS_LLM__ON_UNAVAILABLE", "fail")
    monkeypatch.setenv("CNS_LLM__STRUCTURED_OUTPUT", "none")
    llm = CNSConfig().llm
    assert (llm.backend, llm.model, llm.on_unavailable, llm.structured_output) == (
        "vllm",
        "Qwen/Qwen2.5-7B-Instruct",
        "fail",
        "none",
    )
    monkeypatch.setenv("CNS_LLM__ON_UNAVAILABLE", "retry")
    with pytest.raises(ConfigError) as caught:
        CNSConfig()
    assert caught.value.details["key"] == "llm.on_unavailable"


def test_load_llm_builds_the_one_client_with_the_preset_url_and_no_key() -> None:
    client = load_llm(CNSConfig(llm={"backend": "llamacpp", "model": "any"}))
    assert isinstance(client, OpenAICompatibleLLM)
    with client:
        assert client.base_url == "http://127.0.0.1:8080/v1" and client.structured_output == "json_schema"


@pytest.mark.parametrize(
    ("backend", "expected"),
    [
        ("ollama", {"type": "json_schema", "json_schema": {"name": "cns_response", "schema": SCHEMA}}),
        ("openai", {"type": "json_object"}),
    ],
)
def test_each_preset_asks_for_json_the_way_its_server_understands(
    backend: str, expected: dict[str, Any]
) -> None:
    with FakeOpenAIServer(default='{"a": "x"}') as server:
        config = LLMConfig(backend=backend, base_url=server.base_url, model="m")  # type: ignore[arg-type]
        with OpenAICompatibleLLM.from_config(config) as client:
            assert client.complete_json(MESSAGES, SCHEMA) == {"a": "x"}
            assert client.complete(MESSAGES) == '{"a": "x"}'  # plain completions ask for no format
        first, plain = server.completions
        assert first.json["response_format"] == expected and "authorization" not in first.headers
        assert "response_format" not in plain.json


def test_structured_output_none_sends_no_response_format() -> None:
    assert response_format("none", SCHEMA) is None
    with FakeOpenAIServer(default='{"a": "x"}') as server:
        config = LLMConfig(backend="vllm", base_url=server.base_url, model="m", structured_output="none")
        with OpenAICompatibleLLM.from_config(config) as client:
            client.complete_json(MESSAGES, SCHEMA)
        assert "response_format" not in server.completions[0].json


def test_a_rejected_format_is_weakened_step_by_step_and_remembered() -> None:
    reject = FakeReply.error(400, "'json_schema' is not supported for response_format")
    with FakeOpenAIServer(default='{"a": "x"}') as server:
        server.push(reject, FakeReply.error(400, "response_format json_object unsupported"))
        with OpenAICompatibleLLM(server.base_url, "m", structured_output="json_schema") as client:
            assert client.complete_json(MESSAGES, SCHEMA) == {"a": "x"}
            assert client.structured_output == "none"
            client.complete_json(MESSAGES, SCHEMA)
        formats = [r.json.get("response_format", {}).get("type") for r in server.completions]
        assert formats == ["json_schema", "json_object", None, None]


def test_circuit_breaker_fails_fast_after_a_connection_failure() -> None:
    url = refused_url()
    with OpenAICompatibleLLM(
        url, "m", max_retries=1, backoff_seconds=0.01, circuit_reset_seconds=60
    ) as client:
        with pytest.raises(ModelUnavailableError) as first:
            client.complete(MESSAGES)
        assert "failed 2 attempt(s)" in first.value.message and "ConnectError" in first.value.message
        with pytest.raises(ModelUnavailableError) as second:
            client.complete(MESSAGES)
        assert second.value.details["circuit_open"] is True
        assert (
            "unreachable moments ago" in second.value.message
            and "llm.circuit_reset_seconds" in second.value.message
        )


def test_circuit_breaker_off_and_not_tripped_by_server_errors() -> None:
    with OpenAICompatibleLLM(refused_url(), "m", max_retries=0, circuit_reset_seconds=0) as client:
        for _ in range(2):
            with pytest.raises(ModelUnavailableError) as caught:
                client.complete(MESSAGES)
            assert "circuit_open" not in caught.value.details
    with FakeOpenAIServer() as server:  # the server answers (503): not an outage of the connection
        server.push(FakeReply.error(503), "back")
        with OpenAICompatibleLLM(server.base_url, "m", max_retries=0, circuit_reset_seconds=60) as client:
            with pytest.raises(ModelUnavailableError):
                client.complete(MESSAGES)
            assert client.complete(MESSAGES) == "back"
