"""A loader that gets stuck in C code holding the interpreter lock, for the parser-lifetime test."""

from __future__ import annotations

import ctypes
from pathlib import Path
from typing import Any


def stuck_loader(data: bytes, path: Path, metadata: dict[str, Any] | None) -> list[Any]:
    """Say it started (by writing ``path``), then sleep in libc without releasing the lock."""
    Path(path).write_text("stuck", encoding="utf-8")
    ctypes.PyDLL(None).sleep(600)  # PyDLL keeps the interpreter lock: no other thread runs
    return []
