"""Reading and writing SNO files: one JSON object, a JSON list, or JSON Lines."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from cns.core.sno import StructuredNarrativeObject
from cns.errors import ValidationError


def iter_sno_dicts(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``(location, dict)`` for every SNO in ``path``.

    Bad input — not UTF-8, invalid JSON, nesting deeper than the parser allows — raises
    ``ValidationError`` naming the file (and line), so ``cns sno validate`` reports it instead of
    crashing with a traceback.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason})") from None
    stripped = text.lstrip()
    if path.suffix == ".jsonl" or (
        stripped.startswith("{") and "\n{" in stripped and not stripped.startswith("[")
    ):
        for lineno, line in enumerate(text.splitlines(), 1):
            if line.strip():
                yield f"{path}:{lineno}", _parse(line, f"{path}:{lineno}")
        return
    data = _parse(text, str(path))
    items = data if isinstance(data, list) else [data]
    for i, item in enumerate(items):
        yield (f"{path}[{i}]" if isinstance(data, list) else str(path)), item


def _parse(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{where}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
    except RecursionError:
        raise ValidationError(f"{where}: JSON nested too deeply to be an SNO") from None


def load_snos(paths: Iterable[Path], *, embedding_dim: int | None = None) -> list[StructuredNarrativeObject]:
    return [
        StructuredNarrativeObject.from_dict(data, embedding_dim=embedding_dim)
        for path in paths
        for _, data in iter_sno_dicts(path)
    ]


def write_jsonl(path: Path, snos: Iterable[StructuredNarrativeObject]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        for sno in snos:
            handle.write(json.dumps(sno.to_dict(), ensure_ascii=False) + "\n")
            count += 1
    tmp.replace(path)
    return count
