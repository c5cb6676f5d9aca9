"""Loaders that misbehave inside a parser process: stuck in C code, or one huge allocation."""

from __future__ import annotations

import ctypes
from pathlib import Path
from typing import Any


def stuck_loader(data: bytes, path: Path, metadata: dict[str, Any] | None) -> list[Any]:
    """Say it started (by writing ``path``), then sleep in libc without releasing the lock."""
    Path(path).write_text("stuck", encoding="utf-8")
    ctypes.PyDLL(None).sleep(600)  # PyDLL keeps the interpreter lock: no other thread runs
    return []


def allocate_loader(data: bytes, path: Path, metadata: dict[str, Any] | None) -> list[Any]:
    """Allocate ``int(data)`` bytes in one piece (a decompression bomb's one big buffer)."""
    block = bytearray(int(data))
    return [len(block)]
