"""What every loader shares: the batch result types, size/emptiness/binary checks and decoding.

A loader either returns documents or raises :class:`SkippedFileError` with a reason a person can
act on ("empty file", "binary content", "too large: 12.0 MB > 10.0 MB"). The folder walker turns
those into :class:`SkippedFile` entries, so one bad file never stops a batch.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cns.errors import IngestionError
from cns.ingestion.document import Document

#: Default size limit per file (10 MB): larger files are skipped, not truncated.
DEFAULT_MAX_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class LoaderLimits:
    """What one file may cost to load; the defaults are those of the ``loaders`` config section.

    A small hostile file can expand enormously (a compressed PDF content stream, deeply nested
    HTML), so bytes alone do not bound the work: pages, extracted characters, wall time and memory
    are bounded too. ``isolate`` parses PDF, HTML and Markdown in a separate process (see
    :mod:`cns.ingestion.loaders.sandbox`) where the time and memory limits can be enforced;
    ``wait_for_parser`` is how long to wait for a free parser process (None = as long as it takes,
    0 = fail at once with :class:`~cns.ingestion.loaders.sandbox.ParsersBusy`, as the API does).
    """

    max_file_bytes: int = DEFAULT_MAX_BYTES
    max_chars: int = 1_000_000
    max_pdf_pages: int = 2000
    parse_timeout_seconds: float = 30.0
    parsers: int = 2
    parser_memory_mb: int = 1024
    isolate: bool = True
    follow_symlinks: bool = False
    wait_for_parser: float | None = None

    @classmethod
    def from_settings(cls, section: Any, **overrides: Any) -> LoaderLimits:
        """The limits of a ``loaders`` config section (:class:`cns.config.settings.LoadersConfig`)."""
        names = ("max_file_bytes", "max_chars", "max_pdf_pages", "parse_timeout_seconds", "parsers")
        values = {name: getattr(section, name) for name in names}
        values["parser_memory_mb"] = section.parser_memory_mb
        values["isolate"] = section.isolate_parsers
        values["follow_symlinks"] = section.follow_symlinks
        return cls(**{**values, **overrides})


DEFAULT_LIMITS = LoaderLimits()

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


def display_path(path: str | Path) -> str:
    """``path`` as text that can always be printed and stored.

    A file name that is not valid UTF-8 reaches Python with its bytes kept as lone surrogates;
    writing it to a UTF-8 report or JSON line would fail, so those bytes are shown as ``\\xNN``.
    """
    text = os.fspath(path)
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


_KINDS = (
    (stat.S_ISREG, "regular file"),
    (stat.S_ISDIR, "directory"),
    (stat.S_ISFIFO, "FIFO (named pipe)"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
    (stat.S_ISLNK, "symbolic link"),
)


def file_kind(mode: int) -> str:
    """A person's name for what a ``stat`` mode describes (for skip reasons)."""
    return next((name for test, name in _KINDS if test(mode)), "special file")


def read_checked(path: Path, *, max_bytes: int) -> bytes:
    """Read ``path`` if it is a regular file within ``max_bytes``; anything else raises a skip.

    The file is opened non-blocking and checked on the open descriptor: opening a FIFO for
    reading would otherwise wait forever for a writer, and a device can be read without end.
    Checking the descriptor (not the name) also means a file swapped for a FIFO between the
    folder walk and the read is still refused.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise SkippedFileError(path, f"unreadable: {exc.strerror or exc}") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SkippedFileError(path, f"not a regular file ({file_kind(info.st_mode)}); never read")
        if info.st_size > max_bytes:
            raise SkippedFileError(path, _too_large(info.st_size, max_bytes))
        with os.fdopen(fd, "rb") as handle:
            fd = -1  # closed by the handle from here on
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise SkippedFileError(path, f"unreadable: {exc.strerror or exc}") from exc
    finally:
        if fd >= 0:
            os.close(fd)
    if len(data) > max_bytes:  # the file grew after the size check
        raise SkippedFileError(path, _too_large(len(data), max_bytes))
    if not data.strip():
        raise SkippedFileError(
            path, "empty file (no content)" if not data else "empty file (whitespace only)"
        )
    return data


def _too_large(size: int, max_bytes: int) -> str:
    return f"file too large: {_megabytes(size)} > limit {_megabytes(max_bytes)} (loaders.max_file_bytes)"


def too_long(text: str, limits: LoaderLimits) -> str | None:
    """The skip reason for a text over ``limits.max_chars``, or None."""
    if len(text) <= limits.max_chars:
        return None
    return (
        f"text too long: {len(text):,} characters > limit {limits.max_chars:,} (loaders.max_chars); "
        "split the document"
    )


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
