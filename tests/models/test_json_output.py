"""extract_json_object (lenient parsing of LLM answers) and validate_json (schema subset)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cns.errors import LLMResponseError
from cns.models.json_output import extract_json_object, validate_json


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        ('  \n{"a": [1, 2, {"b": null}]}\n', {"a": [1, 2, {"b": None}]}),
        ('```json\n{"a": 1}\n```', {"a": 1}),
        ('Here you go:\n```\n{"a": "x"}\n```\nHope it helps!', {"a": "x"}),
        ('Sure, the answer is {"a": 1, "b": "}"} as requested.', {"a": 1, "b": "}"}),
        ('{"a": [1, 2,], "b": {"c": 3,},}', {"a": [1, 2], "b": {"c": 3}}),
        ('{"a": "keep ,} this,]"}', {"a": "keep ,} this,]"}),
        ("{'a': 'it\\'s', 'b': True, 'c': None}", {"a": "it's", "b": True, "c": None}),
        ("{'quote': 'say \"hi\"'}", {"quote": 'say "hi"'}),
        ('noise {not json} then {"ok": true}', {"ok": True}),
        ('{"text": "unicode é ✓ \\u00e9"}', {"text": "unicode é ✓ é"}),
    ],
)
def test_extracts_objects(text: str, expected: dict[str, Any]) -> None:
    assert extract_json_object(text) == expected


def test_prefers_exact_json_over_repairs() -> None:
    # a valid object elsewhere in the text must win over "repairing" an earlier broken one
    assert extract_json_object("{'a': 1} and {\"b\": 2}") == {"b": 2}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "no json here",
        "[1, 2, 3]",
        '"just a string"',
        '{"a": 1',
        "{",
        "}{",
        '{"a": NaN}',
        "[" * 5000,
    ],
)
def test_rejects_non_objects_with_llm_response_error(text: str) -> None:
    with pytest.raises(LLMResponseError) as info:
        extract_json_object(text)
    assert info.value.details["raw"] == text
    assert "JSON object" in info.value.message


def test_deep_nesting_is_an_llm_response_error_not_recursion() -> None:
    text = "{" + '"a":[' * 20000 + "]" * 20000 + "}"
    with pytest.raises(LLMResponseError):
        extract_json_object(text)


def test_non_string_input() -> None:
    with pytest.raises(LLMResponseError, match="NoneType"):
        extract_json_object(None)  # type: ignore[arg-type]


_JSON_ALPHABET = st.sampled_from(
    [*list("{}[]\"',:`\\ \n\t0123456789.-eEtruefalsnNI"), "```json", "True", "None"]
)


@settings(max_examples=400, deadline=None, database=None)
@given(st.one_of(st.text(max_size=300), st.lists(_JSON_ALPHABET, max_size=120).map("".join)))
def test_fuzz_only_llm_response_error(text: str) -> None:
    try:
        result = extract_json_object(text)
    except LLMResponseError:
        return
    assert isinstance(result, dict)


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None, database=None)
@given(
    st.dictionaries(st.text(max_size=8), _VALUES, max_size=5),
    st.sampled_from(["{}", "```json\n{}\n```", "Answer: {} Thanks.", "```\n{}\n```\nThat is all."]),
)
def test_roundtrip_of_any_object(obj: dict[str, Any], wrapper: str) -> None:
    text = wrapper.replace("{}", json.dumps(obj), 1)
    assert extract_json_object(text) == obj


SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["results", "mode"],
    "additionalProperties": False,
    "properties": {
        "mode": {"type": "string", "enum": ["fast", "slow"]},
        "note": {"type": ["string", "null"], "minLength": 2},
        "results": {
            "type": "array",
            "minItems": 1,
            "maxItems": 3,
            "items": {
                "type": "object",
                "required": ["id", "p"],
                "properties": {
                    "id": {"type": "integer"},
                    "p": {"type": "number", "minimum": 0, "maximum": 1},
                },
            },
        },
    },
}


def test_valid_document_has_no_problems() -> None:
    data = {"mode": "fast", "note": None, "results": [{"id": 1, "p": 0.5}, {"id": 2.0, "p": 1}]}
    assert validate_json(data, SCHEMA) == []


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ([], "$: expected object, got array"),
        ({"mode": "fast"}, "$: missing required key 'results'"),
        ({"mode": "quick", "results": [{"id": 1, "p": 0}]}, "$.mode: 'quick' is not one of ['fast', 'slow']"),
        ({"mode": "fast", "results": []}, "$.results: 0 items, at least 1 required"),
        ({"mode": "fast", "results": [{"id": 1, "p": 0}] * 4}, "$.results: 4 items, at most 3 allowed"),
        ({"mode": "fast", "results": [{"id": 1, "p": 1.5}]}, "$.results[0].p: 1.5 is above the maximum 1"),
        ({"mode": "fast", "results": [{"id": 1, "p": -1}]}, "$.results[0].p: -1 is below the minimum 0"),
        ({"mode": "fast", "results": [{"id": 1, "p": True}]}, "$.results[0].p: expected number, got boolean"),
        ({"mode": "fast", "results": [{"id": "1", "p": 0}]}, "$.results[0].id: expected integer, got string"),
        ({"mode": "fast", "results": [{"id": 1.5, "p": 0}]}, "$.results[0].id: expected integer, got number"),
        ({"mode": "fast", "results": [{"p": 0}]}, "$.results[0]: missing required key 'id'"),
        ({"mode": "fast", "results": [{"id": 1, "p": 0}], "x": 1}, "$: unexpected key 'x'"),
        (
            {"mode": "fast", "results": [{"id": 1, "p": 0}], "note": "a"},
            "$.note: string shorter than 2 characters",
        ),
    ],
)
def test_problems_are_reported_with_paths(data: Any, problem: str) -> None:
    assert problem in validate_json(data, SCHEMA)


def test_unknown_keywords_are_ignored() -> None:
    assert validate_json({"a": 1}, {"type": "object", "patternProperties": {"x": {}}, "$id": "s"}) == []
    assert validate_json("anything", {}) == []
