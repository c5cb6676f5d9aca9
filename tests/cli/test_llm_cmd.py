"""``cns llm check`` end to end through the CLI: messages and exit codes."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cns.cli.main import app
from cns.testing.fake_openai_server import FakeOpenAIServer, refused_url

runner = CliRunner()
GOOD = '{"answer": "12", "confident": true}'


def use(
    monkeypatch: pytest.MonkeyPatch, url: str, model: str = "fake-model", backend: str = "openai"
) -> None:
    monkeypatch.setenv("CNS_LLM__BACKEND", backend)
    monkeypatch.setenv("CNS_LLM__BASE_URL", url)
    monkeypatch.setenv("CNS_LLM__MODEL", model)


def test_ready_endpoint_exits_0_with_one_line_per_step(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeOpenAIServer(default=GOOD) as server:
        use(monkeypatch, server.base_url)
        result = runner.invoke(app, ["llm", "check"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert (
        lines[0].startswith("LLM openai at http://127.0.0.1:") and "structured output json_object" in lines[0]
    )
    assert [line.split()[:2] for line in lines[1:4]] == [["ok", "reachable"], ["ok", "model"], ["ok", "json"]]
    assert lines[-1] == "the LLM is ready"


def test_unreachable_exits_2_and_says_how_to_start_ollama(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, refused_url(), "llama3.2", backend="ollama")
    result = runner.invoke(app, ["llm", "check"])
    assert result.exit_code == 2
    assert "FAIL reachable" in result.output and "ollama serve" in result.output
    assert "the LLM is not usable (exit 2)" in result.output and "Traceback" not in result.output


def test_missing_model_exits_3_and_bad_json_exits_4(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeOpenAIServer(default="no json here", models=("qwen2.5:7b",)) as server:
        use(monkeypatch, server.base_url, "mistral", backend="ollama")
        missing = runner.invoke(app, ["llm", "check"])
        assert missing.exit_code == 3 and "'mistral' is not served here" in missing.output
        assert "qwen2.5:7b" in missing.output
        use(monkeypatch, server.base_url, "qwen2.5:7b", backend="ollama")
        bad = runner.invoke(app, ["llm", "check", "--format", "json"])
    assert bad.exit_code == 4
    report = json.loads(bad.stdout)
    assert report["ok"] is False and report["exit_code"] == 4 and report["structured_output"] == "json_schema"
    assert [s["ok"] for s in report["steps"]] == [True, True, False]


def test_no_llm_configured_exits_1_pointing_at_the_recipes() -> None:
    result = runner.invoke(app, ["llm", "check"])
    assert (
        result.exit_code == 1 and "no LLM is configured" in result.output and "docs/llm.md" in result.output
    )


def test_invalid_backend_is_a_config_error_naming_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNS_LLM__BACKEND", "ollamma")
    result = runner.invoke(app, ["llm", "check"])
    assert result.exit_code == 1 and "llm.backend" in str(result.exception)
