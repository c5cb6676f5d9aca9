"""LLMNLI: batching, robust parsing and fallbacks (ScriptedLLM), plus one end-to-end run over HTTP."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from structlog.testing import capture_logs

from cns.errors import ConfigError, ModelUnavailableError
from cns.models.llm_openai import OpenAICompatibleLLM
from cns.models.nli_llm import LLMNLI, row_from_answer
from cns.ports import NLIModel
from cns.testing.fake_openai_server import FakeOpenAIServer, RecordedRequest
from cns.testing.fakes import ScriptedLLM

PAIRS = [("The sky is blue.", "The sky is blue."), ("It rains.", "It does not rain."), ("A cat.", "A dog.")]


def _results(*rows: tuple[float, float, float], ids: Sequence[int] | None = None) -> str:
    ids = ids or range(1, len(rows) + 1)
    items = [
        {"id": i, "entailment": e, "neutral": n, "contradiction": c}
        for i, (e, n, c) in zip(ids, rows, strict=True)
    ]
    return json.dumps({"results": items})


def _assert_probabilities(out: np.ndarray, n: int) -> None:
    assert out.shape == (n, 3)
    assert out.dtype == np.float32
    assert np.all(out >= 0)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-6)


def test_batch_answer_is_used_in_one_call() -> None:
    llm = ScriptedLLM([_results((0.9, 0.05, 0.05), (0.1, 0.1, 0.8), (0.2, 0.7, 0.1))])
    nli = LLMNLI(llm)
    out = nli.predict(PAIRS)
    _assert_probabilities(out, 3)
    assert out.argmax(axis=1).tolist() == [0, 2, 1]
    assert len(llm.calls) == 1
    call = llm.calls[0]
    assert call["temperature"] == 0.0
    assert call["json_schema"]["required"] == ["results"]
    assert "The sky is blue." in call["messages"][-1]["content"]
    assert isinstance(nli, NLIModel)


def test_batches_respect_batch_size() -> None:
    llm = ScriptedLLM([_results((1, 0, 0), (1, 0, 0)), _results((0, 0, 1), (0, 0, 1)), _results((0, 1, 0))])
    out = LLMNLI(llm, batch_size=2).predict(PAIRS + PAIRS[:2])
    assert len(llm.calls) == 3
    assert [c["messages"][-1]["content"].count('"premise"') for c in llm.calls] == [2, 2, 0]
    assert out.argmax(axis=1).tolist() == [0, 0, 2, 2, 1]


def test_garbage_batch_falls_back_to_per_pair_prompts() -> None:
    per_pair = [
        json.dumps({"entailment": 0.8, "neutral": 0.1, "contradiction": 0.1}),
        '{"label": "contradiction"}',
    ]
    llm = ScriptedLLM(["I cannot answer in JSON, sorry", *per_pair, "total garbage"])
    with capture_logs() as logs:
        out = LLMNLI(llm).predict(PAIRS)
    _assert_probabilities(out, 3)
    assert len(llm.calls) == 4  # 1 batch + 3 single-pair prompts
    np.testing.assert_allclose(out[1], [0.05, 0.05, 0.9], atol=1e-6)
    np.testing.assert_allclose(out[2], [1 / 3, 1 / 3, 1 / 3], atol=1e-6)
    warning = [e for e in logs if e["event"] == "nli.llm.unjudged"]
    assert warning[0]["count"] == 1
    assert warning[0]["log_level"] == "warning"


def test_only_missing_items_are_re_asked() -> None:
    llm = ScriptedLLM(
        [_results((0.9, 0.05, 0.05), ids=[1]), '{"label": "neutral"}', '{"label": "entailment"}']
    )
    nli = LLMNLI(llm)
    out = nli.predict(PAIRS)
    assert len(llm.calls) == 3
    assert out.argmax(axis=1).tolist() == [0, 1, 0]
    assert "It rains." in llm.calls[1]["messages"][-1]["content"]
    assert nli.unjudged == 0


def test_messy_numbers_are_clipped_and_renormalised() -> None:
    answer = json.dumps(
        {
            "results": [
                {"id": 1, "entailment": 80, "neutral": 15, "contradiction": 5},  # percentages
                {"id": 2, "entailment": -0.5, "neutral": 0.2, "contradiction": 0.6},  # negative
                {"id": 3, "probabilities": {"entailment": 0.2, "neutral": 0.2, "contradiction": 0.2}},
            ]
        }
    )
    out = LLMNLI(ScriptedLLM([answer])).predict(PAIRS)
    _assert_probabilities(out, 3)
    np.testing.assert_allclose(out[0], [0.8, 0.15, 0.05], atol=1e-6)
    np.testing.assert_allclose(out[1], [0.0, 0.25, 0.75], atol=1e-6)
    np.testing.assert_allclose(out[2], [1 / 3, 1 / 3, 1 / 3], atol=1e-6)


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ({"label": "Contradiction"}, (0.05, 0.05, 0.9)),
        ({"label": "entailed"}, (0.9, 0.05, 0.05)),
        ({"contradiction": 0.8}, (0.1, 0.1, 0.8)),
        ({"entailment": True, "neutral": "x", "label": "neutral"}, (0.05, 0.9, 0.05)),
        ({"entailment": 0, "neutral": 0, "contradiction": 0}, None),
        ({"label": "maybe"}, None),
        ({}, None),
    ],
)
def test_row_from_answer(item: dict[str, Any], expected: tuple[float, float, float] | None) -> None:
    row = row_from_answer(item)
    if expected is None:
        assert row is None
    else:
        assert row is not None
        np.testing.assert_allclose(row, expected, atol=1e-9)


def test_results_without_ids_are_taken_in_order() -> None:
    answer = json.dumps(
        {"results": [{"label": "entailment"}, {"label": "contradiction"}, {"label": "neutral"}]}
    )
    out = LLMNLI(ScriptedLLM([answer])).predict(PAIRS)
    assert out.argmax(axis=1).tolist() == [0, 2, 1]


def test_empty_and_single_pair() -> None:
    llm = ScriptedLLM(['{"entailment": 1, "neutral": 0, "contradiction": 0}'])
    nli = LLMNLI(llm)
    assert nli.predict([]).shape == (0, 3)
    out = nli.predict(PAIRS[:1])
    np.testing.assert_allclose(out, [[1, 0, 0]])
    assert llm.calls[0]["json_schema"].get("required") is None  # single pairs use the per-pair prompt


def test_unreachable_endpoint_is_not_hidden() -> None:
    llm = ScriptedLLM([ModelUnavailableError("endpoint down")])
    with pytest.raises(ModelUnavailableError):
        LLMNLI(llm).predict(PAIRS)


def test_name_version_and_config_errors() -> None:
    nli = LLMNLI(ScriptedLLM())
    assert nli.name == "llm:fake:scripted-llm"
    assert len(nli.version) == 12
    assert nli.version == LLMNLI(ScriptedLLM()).version
    with pytest.raises(ConfigError, match="llm.backend"):
        LLMNLI(None)
    with pytest.raises(ValueError, match="batch_size"):
        LLMNLI(ScriptedLLM(), batch_size=0)


def _judge(request: RecordedRequest) -> str:
    """A tiny 'model': contradiction when the hypothesis negates, else entailment."""
    prompt = request.messages[-1]["content"].split("\n\nReply with only", 1)[0]
    if "Items:\n" not in prompt:  # single-pair prompt
        contra = " not " in prompt.split("Hypothesis:", 1)[1]
        return json.dumps({"label": "contradiction" if contra else "entailment"})
    results = []
    for item in json.loads(prompt.split("Items:\n", 1)[1]):
        contra = " not " in f" {item['hypothesis']} "
        row = (0.1, 0.1, 0.8) if contra else (0.8, 0.1, 0.1)
        results.append(
            {"id": item["id"], **dict(zip(("entailment", "neutral", "contradiction"), row, strict=True))}
        )
    return "```json\n" + json.dumps({"results": results}) + "\n```"


def test_end_to_end_over_http() -> None:
    with FakeOpenAIServer(responder=_judge) as server, OpenAICompatibleLLM(server.base_url, "judge") as llm:
        nli = LLMNLI(llm, batch_size=2)
        out = nli.predict(PAIRS)
        assert nli.name == "llm:judge"
    _assert_probabilities(out, 3)
    assert out.argmax(axis=1).tolist() == [0, 2, 0]
    assert len(server.requests) == 2
    assert all(r.json["response_format"] == {"type": "json_object"} for r in server.requests)
