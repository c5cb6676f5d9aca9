"""Pick a loader by file extension (or by sniffing unknown files) and walk folders recursively.

Every failure of one file becomes a :class:`SkippedFile` with its reason; nothing here raises for
a bad file, so a batch over a folder always completes with a summary.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from cns.errors import IngestionError
from cns.ingestion.document import Document
from cns.ingestion.loaders.base import (
    DEFAULT_LIMITS,
    LoaderLimits,
    LoadResult,
    SkippedFile,
    SkippedFileError,
    display_path,
    looks_binary,
    read_checked,
    too_long,
)
from cns.ingestion.loaders.html import load_html
from cns.ingestion.loaders.jsonl import load_jsonl
from cns.ingestion.loaders.pdf import load_pdf
from cns.ingestion.loaders.sandbox import parse_isolated, run_loader
from cns.ingestion.loaders.text import load_markdown, load_txt
from cns.ingestion.loaders.walk import walk_folder
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
#: Loaders whose parser can take minutes or gigabytes on a small hostile file: run in a child
#: process with a time and memory limit (:mod:`cns.ingestion.loaders.sandbox`). Plain text is
#: decoded in linear time and JSONL by the C JSON parser, so they stay in-process.
ISOLATED: frozenset[Loader] = frozenset({load_pdf, load_html, load_markdown})


def not_a_document(path: Path) -> str | None:
    """Why a file found in a folder is not read as a document, or None when it is one.

    The one extension policy: inside a folder only files whose extension has a loader
    (:data:`SUPPORTED_SUFFIXES`) are documents; code, data, configuration and media files next to
    them (``.py``, ``.json``, ``.csv``, ``.png`` …) are skipped and reported, never ingested as
    prose. A file named on the command line is read whatever its extension (sniffed as PDF, HTML
    or text), because the person asked for it.
    """
    suffix = path.suffix.lower()
    if suffix in SUPPORTED_SUFFIXES:
        return None
    kind = f"extension {suffix!r}" if suffix else "no extension"
    return f"not a document ({kind}); documents are {' '.join(SUPPORTED_SUFFIXES)} (name the file to read it anyway)"


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


def parse_bytes(
    loader: Loader, data: bytes, path: Path, metadata: dict[str, Any] | None, limits: LoaderLimits
) -> list[Document]:
    """Documents of ``data`` by ``loader``: isolated when it is a risky parser, then ``max_chars`` checked."""
    if limits.isolate and loader in ISOLATED:
        documents = parse_isolated(loader, data, path, metadata, limits)
    else:
        documents = run_loader(loader, data, path, metadata, limits)
    for document in documents:
        reason = too_long(document.text, limits)
        if reason is not None:
            raise SkippedFileError(path, reason)
    return documents


def within_limits(loaded: LoadResult, limits: LoaderLimits) -> LoadResult:
    """``loaded`` with every document over ``limits.max_chars`` moved to the skipped list (JSONL lines)."""
    kept = LoadResult(skipped=list(loaded.skipped))
    for document in loaded.documents:
        reason = too_long(document.text, limits)
        if reason is None:
            kept.documents.append(document)
        else:
            kept.skipped.append(SkippedFile(document.source, reason))
    return kept


def load_file(
    path: str | Path,
    *,
    max_bytes: int | None = None,
    metadata: dict[str, Any] | None = None,
    limits: LoaderLimits = DEFAULT_LIMITS,
) -> LoadResult:
    """Load one file into documents; a file that cannot be read is returned as skipped.

    Only regular files are read (a FIFO, device or socket is skipped with its kind, never opened
    for a blocking read). ``max_bytes`` overrides ``limits.max_file_bytes``.
    """
    path = Path(path)
    if max_bytes is not None:
        limits = replace(limits, max_file_bytes=max_bytes)
    # the name documents and skip reasons carry: printable and storable even when not UTF-8
    name = Path(display_path(path))
    try:
        data = read_checked(path, max_bytes=limits.max_file_bytes)
        suffix = path.suffix.lower()
        if suffix == ".jsonl":
            return within_limits(load_jsonl(data, name, metadata), limits)
        loader = LOADERS.get(suffix) or _sniffed_loader(data, name)
        return LoadResult(documents=parse_bytes(loader, data, name, metadata, limits))
    except SkippedFileError as exc:
        log.info("ingestion.file_skipped", path=str(name), reason=exc.reason)
        return LoadResult(skipped=[SkippedFile(str(name), exc.reason)])
    except IngestionError as exc:
        return LoadResult(skipped=[SkippedFile(str(name), exc.message)])
    except (ValueError, UnicodeError, RecursionError) as exc:  # a parser choking on malformed input
        log.warning("ingestion.file_unreadable", path=str(name), error=type(exc).__name__)
        return LoadResult(skipped=[SkippedFile(str(name), f"unreadable: {type(exc).__name__}: {exc}")])


def load_path(
    path: str | Path, *, max_bytes: int | None = None, limits: LoaderLimits = DEFAULT_LIMITS
) -> LoadResult:
    """Load a file, or every document under a folder (:func:`~cns.ingestion.loaders.walk.walk_folder`;
    only document extensions, :func:`not_a_document`).

    Entries the walk does not read (FIFOs, devices, links that loop, dangle or leave the folder,
    ``.cnsignore`` exclusions) come back as skipped, with their reasons.
    """
    path = Path(path)
    if max_bytes is not None:
        limits = replace(limits, max_file_bytes=max_bytes)
    if not path.exists() and not path.is_symlink():
        raise IngestionError(f"path does not exist: {display_path(path)}", path=display_path(path))
    if not path.is_dir():
        return load_file(path, limits=limits)
    walk = walk_folder(path, follow_symlinks=limits.follow_symlinks)
    result = LoadResult(skipped=list(walk.skipped))
    for file in walk.files:
        if (not_document := not_a_document(file)) is not None:
            result.skipped.append(SkippedFile(display_path(file), not_document))
            continue
        result.extend(load_file(file, limits=limits))
    return result
