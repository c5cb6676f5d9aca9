"""JSON Lines: one document per line, ``{"text": ..., "title": ..., "author": ..., ...}``.

Every field other than ``text`` is kept as metadata. A bad line (invalid JSON, nesting too deep
to parse, NaN/Infinity, no ``text``, a document the store cannot keep) is skipped with its line
number; the other lines still load, so one hostile line never costs the rest of the file.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from cns.errors import IngestionError
from cns.ingestion.document import make_document
from cns.ingestion.loaders.base import LoadResult, SkippedFile, decode_text


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 parses to inf: as unstorable as a literal Infinity
        raise ValueError(f"number {text[:40]} is out of range")
    return value


def parse_line(line: str) -> Any:
    """Strict JSON of one line; ``ValueError`` (with the reason) for anything else, deep nesting included."""
    try:
        return json.loads(line, parse_constant=_reject_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise ValueError(exc.msg) from None
    except RecursionError:
        raise ValueError("nested too deeply") from None


def load_jsonl(data: bytes, path: str | Path, metadata: dict[str, Any] | None = None) -> LoadResult:
    result = LoadResult()
    for number, line in enumerate(decode_text(data, path).split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = parse_line(line)
        except ValueError as exc:
            result.skipped.append(SkippedFile(where, f"invalid JSON on line {number}: {exc}"))
            continue
        if not isinstance(record, dict):
            result.skipped.append(SkippedFile(where, f"line {number} is not a JSON object"))
            continue
        text = record.pop("text", None)
        if not isinstance(text, str) or not text.strip():
            result.skipped.append(SkippedFile(where, f"line {number} has no non-empty 'text' field"))
            continue
        source = str(record.pop("source", "") or where)
        try:
            document = make_document(text, source, {**record, **(metadata or {}), "format": "jsonl"})
        except IngestionError as exc:
            result.skipped.append(SkippedFile(where, f"line {number}: {exc.message}"))
            continue
        result.documents.append(document)
    return result
