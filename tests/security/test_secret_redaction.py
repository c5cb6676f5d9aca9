"""Secrets (LLM key, API keys, database and broker passwords) never reach logs, error bodies or
``cns config show``.

Logs are captured through the product's own JSON logging setup (structlog *and* stdlib loggers,
rendered exactly as in production), so a secret that slipped into any event would be found.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cns.api.errors import from_cns_error
from cns.cli.main import app as cli
from cns.errors import CNSError, ConfigError, StoreError
from cns.logging_setup import configure_logging
from cns.models.llm_openai import OpenAICompatibleLLM
from cns.services.apikeys import create_api_key
from cns.store.sql import SQLStore
from cns.testing.fake_openai_server import FakeOpenAIServer, FakeReply
from tests.api.api_helpers import api_client
from tests.reliability.reliability_support import record

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(60)]

LLM_KEY = "sk-LLMSECRET-0123456789abcdef"
DB_PASSWORD = "pw-DBSECRET-4242"
BROKER_PASSWORD = "pw-BROKERSECRET-77"
DB_URL = f"postgresql+psycopg://cns:{DB_PASSWORD}@127.0.0.1:1/cns"


@pytest.fixture
def captured() -> io.StringIO:
    stream = io.StringIO()
    configure_logging("DEBUG", fmt="json", stream=stream)
    return stream


def assert_absent(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text, f"secret {secret[:6]}… leaked"


@pytest.mark.parametrize("fmt", ["table", "yaml", "json"])
def test_config_show_redacts_every_secret(monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    monkeypatch.setenv("CNS_LLM__API_KEY", LLM_KEY)
    monkeypatch.setenv("CNS_DATABASE_URL", DB_URL)
    monkeypatch.setenv("CNS_BROKER_URL", f"redis://:{BROKER_PASSWORD}@127.0.0.1:6379/0")
    result = CliRunner().invoke(cli, ["config", "show", "--format", fmt])
    assert result.exit_code == 0, result.output
    assert "llm" in result.output and "database_url" in result.output
    assert_absent(result.output, LLM_KEY, DB_PASSWORD, BROKER_PASSWORD)
    record(
        f"S01[config show {fmt}]",
        "`cns config show` with LLM key, database and broker passwords set",
        "every secret printed as asterisks",
        lost=0,
        duplicated=0,
    )


def test_api_keys_and_the_llm_key_never_reach_error_bodies_or_logs(
    tmp_path: Path, captured: io.StringIO
) -> None:
    overrides = {"auth": {"enabled": True}, "llm": {"api_key": LLM_KEY}}
    with api_client(tmp_path, **overrides) as (client, store, publisher):
        _, key = create_api_key(store, name="writer")
        secret_part = key.split(".", 1)[1]
        bodies = []
        for headers in ({"X-API-Key": key + "x"}, {"X-API-Key": key[:-3]}, {"X-API-Key": key}):
            r = client.post("/ingest", json={"source": "s", "text": "A sentence."}, headers=headers)
            bodies.append(r.text)
        assert [b for b in bodies if '"unauthorized"' in b] == bodies[:2]
        r = client.post("/ingest", json={"source": "s", "text": ""}, headers={"X-API-Key": key})
        bodies.append(r.text)
        bodies += [client.get(path).text for path in ("/readyz", "/metrics", "/tasks/nope", "/openapi.json")]
        assert len(publisher.sent) == 1
    logs = captured.getvalue()
    assert '"http.request"' in logs  # the capture really saw the API's log lines
    assert_absent("\n".join(bodies) + logs, secret_part, LLM_KEY)
    record(
        "S02",
        "wrong, truncated and valid API keys; LLM key in config; error and health routes",
        "401s, 400, 404, /readyz, /metrics and all log lines carry neither the API key secret nor the LLM key",
        lost=0,
        duplicated=len(publisher.sent) - 1,
    )


def test_database_password_never_reaches_errors_or_logs(captured: io.StringIO) -> None:
    with pytest.raises(StoreError) as failed:
        SQLStore.open(DB_URL)
    api_error = from_cns_error(failed.value)
    assert api_error.status == 503
    shown = " ".join(
        [failed.value.message, json.dumps(failed.value.to_dict(), default=str), api_error.message]
    )
    assert_absent(shown + captured.getvalue(), DB_PASSWORD)
    record(
        "S03",
        "database URL with a password, server unreachable",
        f"StoreError without the password; API maps it to {api_error.status} with a generic message",
        lost=0,
        duplicated=0,
    )


def test_llm_key_rejected_by_the_server_is_not_echoed(captured: io.StringIO) -> None:
    with FakeOpenAIServer() as server, OpenAICompatibleLLM(server.base_url, "m", api_key=LLM_KEY) as llm:
        server.push(FakeReply.error(401, "invalid api key"))
        with pytest.raises(ConfigError) as failed:
            llm.complete([{"role": "user", "content": "hello"}])
        sent = server.requests[0].headers["authorization"]
    assert sent == f"Bearer {LLM_KEY}"  # the key was really used …
    error: CNSError = failed.value
    assert "CNS_LLM__API_KEY" in error.message
    assert_absent(error.message + json.dumps(error.to_dict(), default=str) + captured.getvalue(), LLM_KEY)
    record(
        "S04",
        "LLM server rejects the key (HTTP 401)",
        "ConfigError naming CNS_LLM__API_KEY, key absent from the message and logs",
        lost=0,
        duplicated=0,
    )
