"""The client against a real OpenAI-compatible server this project did not write: ``transformers serve``.

The model is a 2-layer Llama with random weights and a tokenizer trained by the test
(:mod:`cns.testing.tiny_chat_model`), so nothing is downloaded. ``transformers serve`` ignores
``response_format`` (it logs "Ignoring unsupported fields"), and a random model cannot write JSON:
the tests pin down that the client then fails cleanly with a message that says what to do. The
last test kills the server and checks the offline fallback of a run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cns.config import CNSConfig
from cns.config.settings import LLMConfig
from cns.errors import LLMResponseError, ModelUnavailableError
from cns.models.llm_check import EXIT_BAD_JSON, EXIT_UNREACHABLE, check_llm
from cns.models.llm_openai import OpenAICompatibleLLM
from cns.services.run import run_pipeline
from cns.services.runtime import build_runtime
from cns.testing.delay_proxy import DelayProxy
from cns.testing.transformers_server import TransformersServe, missing_serve_requirements
from tests.services.run_corpus import write_corpus

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1200)]

MESSAGES = [{"role": "user", "content": "Is the sea floor young near the ridges?"}]
SCHEMA = {"type": "object", "required": ["answer"], "properties": {"answer": {"type": "string"}}}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TransformersServe]:
    missing = missing_serve_requirements()
    if missing:
        pytest.skip(f"transformers serve needs {missing}; install the dev extra: pip install -e '.[dev]'")
    from cns.testing.tiny_chat_model import build_tiny_chat_model

    folder = tmp_path_factory.mktemp("tiny-llm")
    model_dir = build_tiny_chat_model(folder / "model")
    with TransformersServe(model_dir, log_path=folder / "serve.log") as server:
        yield server


def client(served: TransformersServe, **options: object) -> OpenAICompatibleLLM:
    settings: dict[str, object] = {"timeout_seconds": 60.0, "max_retries": 0, "temperature": 0.0}
    settings.update(options)
    return OpenAICompatibleLLM(served.base_url, served.model, **settings)  # type: ignore[arg-type]


def test_chat_completion_round_trip_and_model_list(served: TransformersServe) -> None:
    with client(served) as llm:
        assert served.model in llm.list_models()
        reply = llm.complete(MESSAGES, max_tokens=8)
        usage = llm.usage
    assert isinstance(reply, str)
    assert usage.calls == 1 and 1 <= usage.completion_tokens <= 8 and usage.prompt_tokens > 0


def test_unconstrained_server_gives_a_clean_json_error_after_one_repair(served: TransformersServe) -> None:
    with client(served, structured_output="json_schema") as llm:
        with pytest.raises(LLMResponseError) as caught:
            llm.complete_json(MESSAGES, SCHEMA, max_tokens=24)
        # the server accepted (and ignored) response_format instead of rejecting it: nothing to weaken
        assert llm.structured_output == "json_schema" and llm.usage.calls == 2
    assert "returned invalid JSON twice (after one repair request)" in caught.value.message
    assert isinstance(caught.value.details["raw"], str) and caught.value.details["problems"]
    slow_cpu = 300.0  # a random model writes its 128 probe tokens in ~2 s, minutes on a loaded machine
    settings = LLMConfig(
        backend="openai", base_url=served.base_url, model=served.model, check_timeout_seconds=slow_cpu
    )
    report = check_llm(settings)
    assert [s.ok for s in report.steps] == [True, True, False] and report.exit_code == EXIT_BAD_JSON
    assert "larger or instruction-tuned model" in report.problem


def test_a_reply_slower_than_the_timeout_is_a_clear_unavailable_error(served: TransformersServe) -> None:
    # The real server's reply is held back by a proxy: a tiny model can answer within any small
    # timeout on an idle machine, so generation time alone would make this test depend on load.
    with DelayProxy("127.0.0.1", served.port, delay_seconds=2.0) as proxy:
        slow = OpenAICompatibleLLM(f"{proxy.base_url}/v1", served.model, timeout_seconds=0.5, max_retries=0)
        with slow as llm, pytest.raises(ModelUnavailableError) as caught:
            llm.complete(MESSAGES, max_tokens=4)
    assert "ReadTimeout" in caught.value.message and "llm.timeout_seconds" in caught.value.message


def test_killed_server_trips_the_breaker_and_a_run_falls_back_offline(
    served: TransformersServe, tmp_path: Path
) -> None:
    running = client(served, max_retries=1, backoff_seconds=0.01, circuit_reset_seconds=60)
    assert isinstance(running.complete(MESSAGES, max_tokens=2), str)
    served.kill()
    with running, pytest.raises(ModelUnavailableError) as first:
        running.complete(MESSAGES, max_tokens=2)
    assert "ConnectError" in first.value.message
    with running, pytest.raises(ModelUnavailableError) as second:
        running.complete(MESSAGES, max_tokens=2)
    assert second.value.details["circuit_open"] is True

    llm = {
        "backend": "openai",
        "base_url": served.base_url,
        "model": served.model,
        "check_timeout_seconds": 5,
    }
    config = CNSConfig(
        models={"embedding_backend": "fake", "nli_backend": "fake"}, llm=llm, data_dir=tmp_path / "d"
    )
    assert check_llm(config.llm).exit_code == EXIT_UNREACHABLE
    with build_runtime(config, "cli") as rt:
        summary = run_pipeline(rt, [write_corpus(tmp_path / "docs")], tmp_path / "out")
        stored = rt.store.list()
    assert summary.llm.label == "fallback" and summary.to_dict()["llm"] == "fallback"
    documents = [s for s in stored if "parent_ids" not in s.metadata]
    assert len(documents) == 4
    assert all(
        str(s.metadata["extractor_fallback"]).startswith("heuristic (llm unavailable") for s in documents
    )
