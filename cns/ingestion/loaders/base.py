"""What every loader shares: the batch result types, size/emptiness/binary checks and decoding.

A loader either returns documents or raises :class:`SkippedFileError` with a reason a person can
act on ("empty file", "binary content", "too large: 12.0 MB > 10.0 MB"). The folder walker turns
those into :class:`SkippedFile` entries, so one bad file never stops a batch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from cns.errors import IngestionError
from cns.ingestion.document import Document

#: Default size limit per file (10 MB): larger files are skipped, not truncated.
DEFAULT_MAX_BYTES = 10 * 1024 * 1024

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_SNIFF_BYTES = 8192
_CP1252_TOLERANCE = 0.1


class SkippedFileError(IngestionError):
    """A file cannot be ingested; ``reason`` says why in words fit for a batch summary."""

    def __init__(self, path: str | Path, reason: str) -> None:
        super().__init__(f"skipped {path}: {reason}", path=str(path), reason=reason)
        self.path = str(path)
        self.reason = reason


@dataclass(frozen=True)
class SkippedFile:
    """One file (or JSONL line) that produced no document, and why."""

    path: str
    reason: str


@dataclass
class LoadResult:
    """Documents loaded from a file or folder, plus everything skipped with its reason."""

    documents: list[Document] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)

    def extend(self, other: LoadResult) -> None:
        self.documents.extend(other.documents)
        self.skipped.extend(other.skipped)


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def read_checked(path: Path, *, max_bytes: int) -> bytes:
    """Read ``path`` after the size check; empty, oversized or unreadable files raise a skip."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise SkippedFileError(
                path, f"file too large: {_megabytes(size)} > limit {_megabytes(max_bytes)} (max_bytes)"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise SkippedFileError(path, f"unreadable: {exc.strerror or exc}") from exc
    if not data.strip():
        raise SkippedFileError(
            path, "empty file (no content)" if not data else "empty file (whitespace only)"
        )
    return data


def looks_binary(data: bytes) -> bool:
    """NUL bytes in the first 8 KB mean binary (the heuristic git and grep use)."""
    return b"\x00" in data[:_SNIFF_BYTES]


def decode_text(data: bytes, path: str | Path) -> str:
    """Decode bytes to text: UTF-8 first (exact, the common case), then charset-normalizer.

    Raises a skip for binary content or when no encoding gives mostly printable text.
    """
    if looks_binary(data):
        raise SkippedFileError(path, "binary content (NUL bytes), not a text document")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes

        matches = list(from_bytes(data))
        if not matches:
            raise SkippedFileError(path, "binary or undecodable content (no text encoding fits)") from None
        best = matches[0]
        # Short Western text is ambiguous between single-byte code pages (cp1252 vs cp1257 differ only
        # in rare letters); prefer the far more common cp1252 when it reads nearly as cleanly.
        western = next((m for m in matches if m.encoding == "cp1252"), None)
        if western is not None and western.chaos <= best.chaos + _CP1252_TOLERANCE:
            best = western
        text = str(best)
    controls = len(_CONTROL.findall(text[:_SNIFF_BYTES]))
    if controls > 0.05 * max(1, min(len(text), _SNIFF_BYTES)):
        raise SkippedFileError(path, "binary content (too many control characters), not a text document")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def require_text(text: str, path: str | Path) -> str:
    """A loader that found markup but no words skips the file instead of making an empty document."""
    if not text.strip():
        raise SkippedFileError(path, "no readable text after extraction")
    return text
