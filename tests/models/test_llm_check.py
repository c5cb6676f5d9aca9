"""check_llm against the fake server: each step's verdict, message and exit code."""

from __future__ import annotations

from cns.config.settings import LLMConfig
from cns.models.llm_check import (
    EXIT_BAD_JSON,
    EXIT_MODEL_MISSING,
    EXIT_OK,
    EXIT_UNREACHABLE,
    check_llm,
)
from cns.testing.fake_openai_server import FakeOpenAIServer, FakeReply, refused_url

GOOD = '{"answer": "12", "confident": true}'


def config(url: str, model: str = "fake-model", backend: str = "openai") -> LLMConfig:
    return LLMConfig(backend=backend, base_url=url, model=model, check_timeout_seconds=2)  # type: ignore[arg-type]


def test_ok_when_reachable_listed_and_json_valid() -> None:
    with FakeOpenAIServer(default=GOOD) as server:
        report = check_llm(config(server.base_url))
        assert report.ok and report.exit_code == EXIT_OK
        assert [s.name for s in report.steps] == ["reachable", "model", "json"] and all(
            s.ok for s in report.steps
        )
        assert "fake-model" in report.steps[0].detail and "'answer': '12'" in report.steps[2].detail
        assert [r.method for r in server.requests] == ["GET", "POST"]  # one probe each, nothing retried


def test_unreachable_server_names_the_url_and_how_to_start_it() -> None:
    report = check_llm(LLMConfig(backend="ollama", base_url=refused_url(), model="llama3.2"))
    assert report.exit_code == EXIT_UNREACHABLE and [s.ok for s in report.steps] == [False]
    assert "cannot reach the LLM server" in report.problem and "ollama serve" in report.problem


def test_missing_model_lists_what_the_server_offers() -> None:
    with FakeOpenAIServer(models=("llama3.2:3b", "qwen2.5:7b")) as server:
        report = check_llm(config(server.base_url, "mistral", backend="ollama"))
        assert report.exit_code == EXIT_MODEL_MISSING
        assert "'mistral' is not served" in report.problem and "llama3.2:3b, qwen2.5:7b" in report.problem
        assert server.completions == []  # no generation was attempted for a model that is not there


def test_ollama_latest_tag_and_llamacpp_any_name_count_as_present() -> None:
    with FakeOpenAIServer(default=GOOD, models=("llama3.2:latest",)) as server:
        assert check_llm(config(server.base_url, "llama3.2", backend="ollama")).ok
        report = check_llm(config(server.base_url, "whatever", backend="llamacpp"))
        assert report.ok and "answers with its loaded model" in report.steps[1].detail


def test_bad_json_twice_is_exit_4_after_one_repair_request() -> None:
    with FakeOpenAIServer(default="Sure! The answer is twelve.") as server:
        report = check_llm(config(server.base_url))
        assert report.exit_code == EXIT_BAD_JSON and report.steps[-1].name == "json"
        assert (
            "invalid JSON twice" in report.problem and "larger or instruction-tuned model" in report.problem
        )
        assert len(server.completions) == 2


def test_model_rejected_at_generation_time_is_model_missing() -> None:
    with FakeOpenAIServer(
        default=FakeReply.error(404, "model 'x' not found, try pulling it first")
    ) as server:
        report = check_llm(config(server.base_url))
        assert report.exit_code == EXIT_MODEL_MISSING and "not found, try pulling it" in report.problem


def test_round_trip_can_be_skipped() -> None:
    with FakeOpenAIServer() as server:
        report = check_llm(config(server.base_url), json_round_trip=False)
        assert report.ok and len(report.steps) == 2 and server.completions == []
