"""Hypothesis fuzzing of the JSON the model layer parses: LLM server bodies, answers, NLI verdicts.

Properties, each with the documented error classes of :mod:`cns.errors`:

* ``OpenAICompatibleLLM`` reading any HTTP answer (status, Retry-After, body: JSON of any shape,
  a completion with odd ``content``/``usage``/``finish_reason`` values, or not JSON at all)
  returns the content or raises ``LLMResponseError``/``ModelUnavailableError``/``ConfigError``;
  ``complete_json`` returns an object valid for its schema or raises ``LLMResponseError``;
* ``extract_json_object`` + ``validate_json`` with every schema CNS sends (extraction,
  synthesis, NLI batch and pair) on any answer text: an object and a list of problems, or
  ``LLMResponseError`` — never another exception, and an object without problems really has
  the schema's required keys;
* ``LLMNLI.predict`` on any answer: one finite probability row per pair, each summing to 1.

The real fake server (``cns.testing.fake_openai_server``) carries the bodies, so status codes,
headers and JSON decoding go through httpx exactly as in production.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cns.errors import ConfigError, LLMResponseError, ModelUnavailableError
from cns.ingestion.llm_prompt import response_schema
from cns.models.json_output import extract_json_object, validate_json
from cns.models.llm_openai import OpenAICompatibleLLM
from cns.models.nli_llm import BATCH_SCHEMA, LLMNLI, PAIR_SCHEMA
from cns.synthesis.prompt import SYNTHESIS_SCHEMA
from cns.testing.fake_openai_server import FakeOpenAIServer, FakeReply
from cns.testing.fakes import ScriptedLLM
from tests.security.fuzz_support import ANSWERS, JSON_VALUES, TEXT, Outcomes, fuzz_settings

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(180)]

CLIENT_ERRORS = (LLMResponseError, ModelUnavailableError, ConfigError)
_ODD = JSON_VALUES | st.sampled_from([10**30, -5, 1.5, 2.0, "12", " 7 ", "9" * 5000, "many", [], {}, True])


@st.composite
def completions(draw: st.DrawFn) -> dict[str, Any]:
    """A chat-completion body whose fields are sometimes of the wrong type or range."""
    message = draw(st.one_of(st.fixed_dictionaries({"content": TEXT | _ODD}), _ODD))
    choice = draw(
        st.one_of(st.fixed_dictionaries({"message": st.just(message), "finish_reason": _ODD}), _ODD)
    )
    usage = draw(st.one_of(st.fixed_dictionaries({"prompt_tokens": _ODD, "completion_tokens": _ODD}), _ODD))
    return {"choices": draw(st.one_of(st.just([choice]), _ODD)), "usage": usage}


_COUNTS = st.integers(0, 10_000)
VALID_COMPLETIONS = st.fixed_dictionaries(
    {
        "choices": st.tuples(
            st.fixed_dictionaries(
                {
                    "message": st.fixed_dictionaries({"content": TEXT | JSON_VALUES.map(json.dumps)}),
                    "finish_reason": st.sampled_from(["stop", "length"]),
                }
            )
        ).map(list),
        "usage": st.fixed_dictionaries({"prompt_tokens": _COUNTS, "completion_tokens": _COUNTS}),
    }
)
BODIES = st.one_of(VALID_COMPLETIONS, completions(), JSON_VALUES, TEXT)
STATUSES = st.sampled_from([200, 200, 200, 400, 401, 404, 408, 422, 429, 500, 503])
RETRY_AFTER = st.sampled_from(
    [None, "0", "nan", "inf", "-1", "1e400", "soon", "Wed, 21 Oct 2015 07:28:00 GMT"]
)


def _client(server: FakeOpenAIServer) -> OpenAICompatibleLLM:
    return OpenAICompatibleLLM(
        server.base_url, "m", timeout_seconds=5, max_retries=0, backoff_seconds=0, max_retry_after_seconds=0
    )


def test_llm_client_reads_any_server_answer() -> None:
    outcomes = Outcomes()
    json_mode: Counter[str] = Counter()  # complete_json on the answers that had content
    current: list[FakeReply] = []  # the reply of the running example
    server = FakeOpenAIServer(responder=lambda _request: current[-1]).start()
    llm = _client(server)  # one client, as in production (its connection pool is reused)

    @fuzz_settings(200)  # ~50 ms per request to the stdlib server: the budget
    @given(body=BODIES, status=STATUSES, retry_after=RETRY_AFTER)
    @example(  # was ValueError: int("many") reading usage.prompt_tokens
        body={"choices": [{"message": {"content": "ok"}}], "usage": {"prompt_tokens": "many"}},
        status=200,
        retry_after=None,
    )
    @example(  # was OverflowError: int(inf) (JSON 1e400 reads as infinity)
        body='{"choices": [{"message": {"content": "ok"}}], "usage": {"completion_tokens": 1e400}}',
        status=200,
        retry_after=None,
    )
    @example(  # a digit string int() refuses (over 4300 digits): must count 0, not raise ValueError
        body={"choices": [{"message": {"content": "ok"}}], "usage": {"prompt_tokens": "9" * 5000}},
        status=200,
        retry_after=None,
    )
    @example(  # was TypeError: int([]) reading usage
        body={"choices": [{"message": {"content": "ok"}}], "usage": {"prompt_tokens": []}},
        status=200,
        retry_after=None,
    )
    def run(body: Any, status: int, retry_after: str | None) -> None:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        current.append(FakeReply(content=None, status=status, body=body, headers=headers))
        try:
            answer = llm.complete([{"role": "user", "content": "hi"}])
        except CLIENT_ERRORS as exc:
            assert exc.message.strip()
            outcomes.add(type(exc).__name__)
        else:
            assert isinstance(answer, str)
            outcomes.add("content")
            try:  # the same answer through JSON mode: parse, validate, one repair round
                data = llm.complete_json([{"role": "user", "content": "hi"}], PAIR_SCHEMA)
            except LLMResponseError:
                json_mode["LLMResponseError"] += 1
            else:
                assert validate_json(data, PAIR_SCHEMA) == []
                json_mode["valid object"] += 1
        assert llm.usage.prompt_tokens >= 0 and llm.usage.completion_tokens >= 0

    try:
        run()
    finally:
        llm.close()
        server.close()
    assert outcomes.counts["content"] > 0
    outcomes.record(
        "llm:http-body",
        "OpenAI-compatible server answers with any status, Retry-After and body (odd types, not JSON)",
        "content, or LLMResponseError / ModelUnavailableError / ConfigError; usage never negative; "
        f"complete_json on the contents: {json_mode['valid object']} valid objects, "
        f"{json_mode['LLMResponseError']} LLMResponseError",
    )


SCHEMAS: dict[str, dict[str, Any]] = {
    "extraction": response_schema(12),
    "synthesis": SYNTHESIS_SCHEMA,
    "nli-batch": BATCH_SCHEMA,
    "nli-pair": PAIR_SCHEMA,
}


@pytest.mark.parametrize("schema_name", sorted(SCHEMAS))
def test_answers_parse_and_validate_or_raise_llm_response_error(schema_name: str) -> None:
    schema = SCHEMAS[schema_name]
    outcomes = Outcomes()

    @fuzz_settings(400)
    @given(answer=ANSWERS)
    @example(answer='{"hypothesis": "x", "claims": [], "edges": [], "evidence": [' * 3000)
    def run(answer: str) -> None:
        try:
            data = extract_json_object(answer)
        except LLMResponseError as exc:
            assert exc.details["raw"] == answer
            outcomes.add("LLMResponseError")
            return
        problems = validate_json(data, schema)
        assert isinstance(problems, list) and all(isinstance(p, str) and p for p in problems)
        if not problems:
            assert set(schema.get("required", ())) <= set(data)
        outcomes.add("valid" if not problems else "schema problems")

    run()
    outcomes.record(
        f"llm-answer:{schema_name}",
        f"any LLM answer text (prose, fences, broken JSON, NaN) against the {schema_name} schema",
        "an object and a list of problems (empty only when required keys are there), or LLMResponseError",
    )


_VERDICT_VALUES = st.one_of(
    st.floats(), st.integers(), st.sampled_from([1e308, -1e308, 0, 100, "0.9", None, True])
)
VERDICTS = st.fixed_dictionaries(
    {},
    optional={
        "entailment": _VERDICT_VALUES,
        "neutral": _VERDICT_VALUES,
        "contradiction": _VERDICT_VALUES,
        "label": TEXT | st.sampled_from(["Entailment", "CONTRADICTS", "neutral.", "unknown"]),
        "id": st.integers(-2, 5) | TEXT,
    },
)
_PROB = st.floats(0, 1)
GOOD_VERDICTS = st.lists(
    st.fixed_dictionaries({"entailment": _PROB, "neutral": _PROB, "contradiction": _PROB}),
    min_size=2,
    max_size=2,
).map(lambda rows: json.dumps({"results": [{"id": i + 1, **row} for i, row in enumerate(rows)]}))
NLI_ANSWERS = st.one_of(
    GOOD_VERDICTS,
    ANSWERS,
    st.lists(VERDICTS, max_size=5).map(lambda items: json.dumps({"results": items})),
    VERDICTS.map(json.dumps),
)
HUGE_ROWS = json.dumps({"results": [{"id": i, "entailment": 1e308, "neutral": 1e308} for i in (1, 2)]})


def test_llm_nli_rows_are_finite_probabilities_for_any_answer() -> None:
    outcomes = Outcomes()
    pairs = [("Rocks are old.", "Rocks are young."), ("It rains.", "The ground is wet.")]

    @fuzz_settings(300)
    @given(answers=st.lists(NLI_ANSWERS, min_size=1, max_size=3), batch=st.booleans())
    @example(answers=[HUGE_ROWS], batch=True)  # was a NaN row (inf / inf) and a RuntimeWarning
    @example(
        answers=[json.dumps({"entailment": 1e308, "neutral": 1e308, "contradiction": 1e308})], batch=False
    )
    def run(answers: list[str], batch: bool) -> None:
        nli = LLMNLI(ScriptedLLM(answers, default=answers[-1]), batch_size=2 if batch else 1)
        rows = nli.predict(pairs)
        assert rows.shape == (2, 3) and rows.dtype == np.float32
        assert np.isfinite(rows).all() and (rows >= 0).all(), rows
        assert np.allclose(rows.sum(axis=1), 1.0, atol=1e-5), rows
        outcomes.add("uniform fallback" if nli.unjudged else "judged")

    run()
    outcomes.record(
        "llm-answer:nli",
        "NLI-by-LLM answers: any text, batch/pair JSON with odd, huge, negative or missing probabilities",
        "two finite probability rows summing to 1 (uniform when unusable); no exception",
    )
