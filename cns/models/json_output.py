"""Getting a JSON object out of an LLM's answer, and checking it against a small JSON-schema subset.

LLMs wrap JSON in prose, in fenced blocks, leave trailing commas or answer with Python-style
single quotes. :func:`extract_json_object` tries the cheap, exact readings first and the lossy
repairs last, so a well-formed answer is never "repaired". Any failure is an
:class:`~cns.errors.LLMResponseError` carrying the raw text (``details['raw']``), never a
``json``/``Recursion`` error leaking from the parser.

:func:`validate_json` implements only what CNS prompts use (``type``, ``properties``,
``required``, ``additionalProperties``, ``items``, ``minItems``/``maxItems``, ``enum``,
``minimum``/``maximum``, ``minLength``); unknown keywords are ignored, so a richer schema
degrades to a looser check instead of an error. ``jsonschema`` is not a dependency.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from cns.errors import LLMResponseError

__all__ = ["extract_json_object", "validate_json"]

_FENCE = re.compile(r"```[ \t]*(?:json|JSON|javascript|js)?[ \t]*\r?\n?(.*?)```", re.DOTALL)
_MAX_CANDIDATES = 16
_PY_LITERALS = {"True": "true", "False": "false", "None": "null"}


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _loads_object(text: str) -> dict[str, Any] | None:
    """Strict ``json.loads`` that returns only objects and never raises."""
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError; deep nesting recurses
        return None
    return value if isinstance(value, dict) else None


def _top_level_objects(text: str) -> Iterator[str]:
    """Balanced ``{...}`` spans outside JSON strings, in order (one linear scan)."""
    depth, start, in_string, escaped = 0, -1, False, False
    for i, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"' and depth > 0:
            in_string = True
        elif ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth > 0:
            depth -= 1
            if depth == 0:
                yield text[start : i + 1]


def _candidates(text: str) -> list[str]:
    """Substrings that may hold the object, most specific reading first, deduplicated."""
    found: list[str] = [m.group(1).strip() for m in _FENCE.finditer(text)]
    found.append(text.strip())
    for span in _top_level_objects(text):
        found.append(span)
        if len(found) >= _MAX_CANDIDATES:
            break
    first, last = text.find("{"), text.rfind("}")
    if 0 <= first < last:
        found.append(text[first : last + 1])
    return list(dict.fromkeys(c for c in found if c))


def _rewrite_outside_strings(text: str, *, single_quotes: bool) -> str:
    """Drop trailing commas; optionally turn ``'...'`` strings and Python literals into JSON."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"' or (single_quotes and ch == "'"):
            j, body = i + 1, []
            while j < n and text[j] != ch:
                if text[j] == "\\" and j + 1 < n:
                    pair = text[j : j + 2]
                    body.append("'" if pair == "\\'" else pair)
                    j += 2
                    continue
                body.append('\\"' if text[j] == '"' else text[j])
                j += 1
            out.append('"' + "".join(body) + '"')
            i = j + 1
            continue
        if ch == ",":
            k = i + 1
            while k < n and text[k].isspace():
                k += 1
            if k < n and text[k] in "}]":
                i += 1
                continue
        if single_quotes and ch.isalpha():
            k = i
            while k < n and (text[k].isalnum() or text[k] == "_"):
                k += 1
            word = text[i:k]
            out.append(_PY_LITERALS.get(word, word))
            i = k
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _lenient_readings() -> list[Callable[[str], str]]:
    return [
        lambda s: s,
        lambda s: _rewrite_outside_strings(s, single_quotes=False),
        lambda s: _rewrite_outside_strings(s, single_quotes=True),
    ]


def extract_json_object(text: str) -> dict[str, Any]:
    """Return the JSON object in an LLM answer or raise :class:`LLMResponseError` (raw text attached).

    Tried in order, for every candidate substring (fenced block, whole text, each balanced
    ``{...}``): strict JSON, JSON without trailing commas, then single quotes / ``True`` as a
    last resort. The first reading that yields an object wins.
    """
    if not isinstance(text, str):
        raise LLMResponseError(f"expected the model's text answer, got {type(text).__name__}", raw=repr(text))
    candidates = _candidates(text)
    for reading in _lenient_readings():
        for candidate in candidates:
            value = _loads_object(reading(candidate))
            if value is not None:
                return value
    snippet = " ".join(text.split())[:120]
    raise LLMResponseError(
        f"the model's answer ({len(text)} chars) contains no parseable JSON object; "
        f"starts with {snippet!r}. Ask for 'only a JSON object' or lower the temperature",
        raw=text,
    )


_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())
    ),
}


def _type_name(value: Any) -> str:
    for name in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if _TYPES[name](value):
            return name
    return type(value).__name__


def _check_type(data: Any, schema: Mapping[str, Any], path: str) -> str | None:
    expected = schema.get("type")
    if expected is None:
        return None
    names = [expected] if isinstance(expected, str) else list(expected)
    if any(_TYPES.get(name, lambda _v: True)(data) for name in names):
        return None
    return f"{path}: expected {' or '.join(names)}, got {_type_name(data)}"


def _check_scalar(data: Any, schema: Mapping[str, Any], path: str) -> list[str]:
    problems: list[str] = []
    if "enum" in schema and data not in schema["enum"]:
        problems.append(f"{path}: {data!r} is not one of {list(schema['enum'])!r}")
    if _TYPES["number"](data):
        if "minimum" in schema and data < schema["minimum"]:
            problems.append(f"{path}: {data} is below the minimum {schema['minimum']}")
        if "maximum" in schema and data > schema["maximum"]:
            problems.append(f"{path}: {data} is above the maximum {schema['maximum']}")
    if isinstance(data, str) and len(data) < schema.get("minLength", 0):
        problems.append(f"{path}: string shorter than {schema['minLength']} characters")
    return problems


def _check_object(data: dict[str, Any], schema: Mapping[str, Any], path: str) -> list[str]:
    problems = [
        f"{path}: missing required key {key!r}" for key in schema.get("required", ()) if key not in data
    ]
    properties: Mapping[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for key, value in data.items():
        if key in properties:
            problems += _validate(value, properties[key], f"{path}.{key}")
        elif extra is False:
            problems.append(f"{path}: unexpected key {key!r}")
        elif isinstance(extra, Mapping):
            problems += _validate(value, extra, f"{path}.{key}")
    return problems


def _check_array(data: list[Any], schema: Mapping[str, Any], path: str) -> list[str]:
    problems: list[str] = []
    if len(data) < schema.get("minItems", 0):
        problems.append(f"{path}: {len(data)} items, at least {schema['minItems']} required")
    if "maxItems" in schema and len(data) > schema["maxItems"]:
        problems.append(f"{path}: {len(data)} items, at most {schema['maxItems']} allowed")
    items = schema.get("items")
    if isinstance(items, Mapping):
        for i, item in enumerate(data):
            problems += _validate(item, items, f"{path}[{i}]")
    return problems


def _validate(data: Any, schema: Mapping[str, Any], path: str) -> list[str]:
    type_problem = _check_type(data, schema, path)
    if type_problem:
        return [type_problem]  # nested checks on a value of the wrong type only add noise
    problems = _check_scalar(data, schema, path)
    if isinstance(data, dict):
        problems += _check_object(data, schema, path)
    elif isinstance(data, list):
        problems += _check_array(data, schema, path)
    return problems


def validate_json(data: Any, schema: Mapping[str, Any]) -> list[str]:
    """Human-readable problems of ``data`` against ``schema`` (``$``-rooted paths); empty when valid.

    The messages are written to be sent back to the model in a repair prompt, so they name the
    path, what was expected and what was found.
    """
    return _validate(data, schema, "$")
