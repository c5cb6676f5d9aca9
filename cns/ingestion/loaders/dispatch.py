"""Pick a loader by file extension (or by sniffing unknown files) and walk folders recursively.

Every failure of one file becomes a :class:`SkippedFile` with its reason; nothing here raises for
a bad file, so a batch over a folder always completes with a summary.
"""

from __future__ import annotations

import fnmatch
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cns.errors import IngestionError
from cns.ingestion.document import Document
from cns.ingestion.loaders.base import (
    DEFAULT_MAX_BYTES,
    LoadResult,
    SkippedFile,
    SkippedFileError,
    looks_binary,
    read_checked,
)
from cns.ingestion.loaders.html import load_html
from cns.ingestion.loaders.jsonl import load_jsonl
from cns.ingestion.loaders.pdf import load_pdf
from cns.ingestion.loaders.text import load_markdown, load_txt
from cns.logging_setup import get_logger

log = get_logger(__name__)

Loader = Callable[[bytes, Path, dict[str, Any] | None], list[Document]]

LOADERS: dict[str, Loader] = {
    ".txt": load_txt,
    ".text": load_txt,
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".html": load_html,
    ".htm": load_html,
    ".xhtml": load_html,
    ".pdf": load_pdf,
}
SUPPORTED_SUFFIXES = (*LOADERS, ".jsonl")


def _sniffed_loader(data: bytes, path: Path) -> Loader:
    """For an unknown extension: PDF by magic bytes, HTML by its opening tag, else plain text."""
    if data.lstrip()[:5] == b"%PDF-":
        return load_pdf
    if looks_binary(data):
        raise SkippedFileError(
            path, f"binary content (NUL bytes); unsupported file type {path.suffix or '(none)'!r}"
        )
    head = data[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return load_html
    return load_txt


def load_file(
    path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES, metadata: dict[str, Any] | None = None
) -> LoadResult:
    """Load one file into documents; a file that cannot be read is returned as skipped."""
    path = Path(path)
    try:
        data = read_checked(path, max_bytes=max_bytes)
        suffix = path.suffix.lower()
        if suffix == ".jsonl":
            return load_jsonl(data, path, metadata)
        loader = LOADERS.get(suffix) or _sniffed_loader(data, path)
        return LoadResult(documents=loader(data, path, metadata))
    except SkippedFileError as exc:
        log.info("ingestion.file_skipped", path=str(path), reason=exc.reason)
        return LoadResult(skipped=[SkippedFile(str(path), exc.reason)])
    except IngestionError as exc:
        return LoadResult(skipped=[SkippedFile(str(path), exc.message)])
    except (ValueError, UnicodeError, RecursionError) as exc:  # a parser choking on malformed input
        log.warning("ingestion.file_unreadable", path=str(path), error=type(exc).__name__)
        return LoadResult(skipped=[SkippedFile(str(path), f"unreadable: {type(exc).__name__}: {exc}")])


IGNORE_FILE = ".cnsignore"


def _ignore_patterns(root: Path) -> dict[Path, list[str]]:
    """``.cnsignore`` files under ``root``: folder → glob patterns (one per line, ``#`` comments)."""
    patterns: dict[Path, list[str]] = {}
    for ignore in root.rglob(IGNORE_FILE):
        lines = _ignore_lines(ignore)
        if lines is None:
            continue
        patterns[ignore.parent] = [
            ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")
        ]
    return patterns


def _ignore_lines(ignore: Path) -> list[str] | None:
    """The lines of a ``.cnsignore``, or None (logged) when it is not a readable regular file.

    Never ``open`` anything else: opening a FIFO blocks forever (a hostile folder hung the run),
    and a directory or an unreadable file used to abort the whole run with a traceback.
    """
    try:
        if not stat.S_ISREG(ignore.lstat().st_mode):
            log.warning("ingestion.ignore_file_unusable", path=str(ignore), reason="not a regular file")
            return None
        return ignore.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        log.warning("ingestion.ignore_file_unusable", path=str(ignore), reason=f"{type(exc).__name__}: {exc}")
        return None


def _ignored_by(path: Path, patterns: dict[Path, list[str]]) -> Path | None:
    """The ``.cnsignore`` that excludes ``path`` (patterns match the relative path or the file name)."""
    for folder, globs in patterns.items():
        if folder not in path.parents:
            continue
        relative = path.relative_to(folder).as_posix()
        if any(fnmatch.fnmatch(relative, g) or fnmatch.fnmatch(path.name, g) for g in globs):
            return folder / IGNORE_FILE
    return None


def iter_files(root: Path) -> list[Path]:
    """Files under ``root`` in a stable order, skipping hidden files and folders (``.git``, ``.DS_Store``)."""
    files = [
        p
        for p in root.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    ]
    return sorted(files)


def load_path(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> LoadResult:
    """Load a file or every file under a folder (recursively)."""
    path = Path(path)
    if not path.exists():
        raise IngestionError(f"path does not exist: {path}", path=str(path))
    if path.is_file():
        return load_file(path, max_bytes=max_bytes)
    result = LoadResult()
    patterns = _ignore_patterns(path)
    for file in iter_files(path):
        excluded_by = _ignored_by(file, patterns)
        if excluded_by is not None:
            result.skipped.append(SkippedFile(str(file), f"excluded by {excluded_by}"))
            continue
        result.extend(load_file(file, max_bytes=max_bytes))
    return result
