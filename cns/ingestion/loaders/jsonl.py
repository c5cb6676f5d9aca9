"""JSON Lines: one document per line, ``{"text": ..., "title": ..., "author": ..., ...}``.

Every field other than ``text`` is kept as metadata. A bad line (invalid JSON, no ``text``) is
skipped with its line number; the other lines still load.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cns.ingestion.document import make_document
from cns.ingestion.loaders.base import LoadResult, SkippedFile, decode_text


def load_jsonl(data: bytes, path: str | Path, metadata: dict[str, Any] | None = None) -> LoadResult:
    result = LoadResult()
    for number, line in enumerate(decode_text(data, path).split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            result.skipped.append(SkippedFile(where, f"invalid JSON on line {number}: {exc.msg}"))
            continue
        if not isinstance(record, dict):
            result.skipped.append(SkippedFile(where, f"line {number} is not a JSON object"))
            continue
        text = record.pop("text", None)
        if not isinstance(text, str) or not text.strip():
            result.skipped.append(SkippedFile(where, f"line {number} has no non-empty 'text' field"))
            continue
        source = str(record.pop("source", "") or where)
        result.documents.append(
            make_document(text, source, {**record, **(metadata or {}), "format": "jsonl"})
        )
    return result
