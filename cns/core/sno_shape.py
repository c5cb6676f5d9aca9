"""The shape of SNO JSON, checked before :func:`~cns.core.serialization.sno_from_dict` rebuilds it.

SNO files come from outside (``cns sno validate``/``import``, hand edits, other tools). The
rebuild trusts types (``float(confidence)``, ``span[0]``, ``node["claim"]``), so a file with a
``null`` node or a string span made it raise ``KeyError``/``TypeError``/``AttributeError``/
``ValueError`` — or a numpy overflow warning — instead of the documented
:class:`~cns.errors.ValidationError` (found by fuzzing, reliability issue 8). Here every field the
rebuild reads is checked for its JSON type, every string for being encodable (an unpaired
surrogate cannot be hashed) and every number for being finite (:mod:`cns.core.storable`), with a
message that names the offending place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from cns.core.storable import json_problem
from cns.errors import ValidationError

_FLOAT32_MAX = float(np.finfo(np.float32).max)
_OPTIONAL_OBJECT = ("object", "null")

#: field → JSON types allowed when the field is present (absent fields take their defaults).
_SNO = {
    "sno_id": ("string", "null"),
    "sno_schema_version": ("integer", "null"),
    "central_hypothesis": ("string",),
    "created_at": ("string", "null"),
    "hypothesis_embedding": ("array", "null"),
    "reasoning_graph": ("object",),
    "evidence_set": ("array", "null"),
    "trust_score": ("number", "null"),
    "status": ("string", "null"),
    "metadata": _OPTIONAL_OBJECT,
    "content_hash": ("string", "null"),
}
_GRAPH = {"nodes": ("array", "null"), "links": ("array", "null"), "edges": ("array", "null")}
_CLAIM = {
    "claim_id": ("string", "integer"),
    "content": ("string",),
    "claim_type": ("string",),
    "confidence": ("number",),
    "embedding": ("array", "null"),
    "metadata": _OPTIONAL_OBJECT,
}
_EDGE = {
    "source": ("string", "integer"),
    "target": ("string", "integer"),
    "relation_type": ("string",),
    "strength": ("number",),
    "metadata": _OPTIONAL_OBJECT,
}
_EVIDENCE = {
    "content": ("string",),
    "source_id": ("string", "null"),
    "span": ("array", "null"),
    "document_id": ("string", "null"),
    "confidence": ("number",),
    "quality": ("number",),
    "metadata": _OPTIONAL_OBJECT,
    "key": ("string", "null"),
}


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return (
        "array" if isinstance(value, list) else "object" if isinstance(value, dict) else type(value).__name__
    )


def _is(value: Any, kinds: tuple[str, ...]) -> bool:
    kind = _kind(value)
    return kind in kinds or (kind == "integer" and "number" in kinds)


def _fields(
    data: Any, spec: Mapping[str, tuple[str, ...]], where: str, required: tuple[str, ...] = ()
) -> None:
    if not isinstance(data, dict):
        raise ValidationError(f"SNO data: {where} must be an object, got {_kind(data)}")
    for key in required:
        if key not in data:
            raise ValidationError(f"SNO data: {where} is missing the required key {key!r}")
    for key, kinds in spec.items():
        if key in data and not _is(data[key], kinds):
            raise ValidationError(
                f"SNO data: {where}.{key} must be {' or '.join(kinds)}, got {_kind(data[key])}"
            )


def _vector(values: list[Any] | None, where: str) -> None:
    for i, value in enumerate(values or []):
        if not _is(value, ("number",)) or abs(value) > _FLOAT32_MAX:
            raise ValidationError(f"SNO data: {where}[{i}] must be a number within float32 range")


def _items(data: dict[str, Any], key: str, where: str) -> list[tuple[str, Any]]:
    return [(f"{where}.{key}[{i}]", item) for i, item in enumerate(data.get(key) or [])]


def check_sno_shape(data: dict[str, Any]) -> None:
    """Raise :class:`ValidationError` naming the first place ``data`` cannot be rebuilt from."""
    problem = json_problem(data, "SNO", allow_nul=True)  # SNOs with NUL round-trip (SQLite keeps them)
    if problem:
        raise ValidationError(f"SNO data: {problem}")
    _fields(data, _SNO, "SNO")
    _vector(data.get("hypothesis_embedding"), "SNO.hypothesis_embedding")
    graph = data["reasoning_graph"]
    _fields(graph, _GRAPH, "SNO.reasoning_graph")
    for where, node in _items(graph, "nodes", "SNO.reasoning_graph"):
        _fields(node, {"claim": ("object",)}, where, required=("claim",))
        _fields(node["claim"], _CLAIM, f"{where}.claim", required=("claim_id", "content"))
        _vector(node["claim"].get("embedding"), f"{where}.claim.embedding")
    links = "links" if "links" in graph else "edges"
    for where, link in _items(graph, links, "SNO.reasoning_graph"):
        _fields(link, {"reasoning_edge": ("object",)}, where, required=("reasoning_edge",))
        _fields(link["reasoning_edge"], _EDGE, f"{where}.reasoning_edge", required=("source", "target"))
    for where, item in _items(data, "evidence_set", "SNO"):
        _fields(item, _EVIDENCE, where, required=("content",))
        span = item.get("span")
        if span and (len(span) != 2 or not all(_is(x, ("integer",)) for x in span)):
            raise ValidationError(f"SNO data: {where}.span must be null or [start, end] integers")
