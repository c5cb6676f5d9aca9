"""Text and JSON values the store can keep: no NUL, no unpaired surrogates, only finite numbers.

JSON can spell all three (``"\\u0000"``, ``"\\ud800"``, and Python's parser reads ``NaN`` and
``1e999``), and untrusted input (API bodies, JSONL files, LLM answers) does. The databases do
not keep them: SQLite and PostgreSQL cannot encode an unpaired surrogate as UTF-8 (a 500 in the
API), PostgreSQL rejects NUL in ``text`` and ``jsonb`` and NaN/Infinity in ``jsonb`` (a 503 that
tells the client to retry a request that can never succeed). Found by fuzzing (reliability issue
8); callers check here, at the boundary, and reject the value with a message naming where it is.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["json_problem", "text_problem"]

_MAX_PATH_CHARS = 120  # a message names the place, it does not echo a whole document


def _short(path: str) -> str:
    return path if len(path) <= _MAX_PATH_CHARS else path[: _MAX_PATH_CHARS - 1] + "…"


def text_problem(value: str, *, allow_nul: bool = False) -> str | None:
    """Why ``value`` cannot be stored, or ``None`` when it can (``allow_nul``: SQLite-only data)."""
    if not allow_nul and "\x00" in value:
        return f"contains a NUL character (U+0000) at position {value.index(chr(0))}"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"contains an unpaired surrogate (invalid Unicode) at position {exc.start}"
    return None


def json_problem(
    value: Any, where: str = "$", *, max_depth: int | None = None, allow_nul: bool = False
) -> str | None:
    """The first unstorable string, key or number inside a parsed JSON ``value``, or nesting deeper
    than ``max_depth`` containers (iterative, so any depth can be checked)."""
    stack: list[tuple[str, Any, int]] = [(where, value, 0)]
    while stack:
        path, item, depth = stack.pop()
        if max_depth is not None and depth > max_depth:
            return f"{_short(path)} is nested more than {max_depth} levels deep"
        if isinstance(item, str):
            problem = text_problem(item, allow_nul=allow_nul)
            if problem:
                return f"{_short(path)} {problem}"
        elif isinstance(item, float) and not math.isfinite(item):
            return f"{_short(path)} is {item!r}, not a finite number (JSON has no NaN or Infinity)"
        elif isinstance(item, dict):
            for key, child in item.items():
                problem = text_problem(key, allow_nul=allow_nul) if isinstance(key, str) else None
                if problem:
                    return f"a key of {_short(path)} {problem}"
                stack.append((f"{path}.{key}", child, depth + 1))
        elif isinstance(item, list | tuple):
            stack.extend((f"{path}[{i}]", child, depth + 1) for i, child in enumerate(item))
    return None
