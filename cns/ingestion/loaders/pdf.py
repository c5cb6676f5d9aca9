"""PDF text through ``pypdf``: page text joined by blank lines, words hyphenated at line ends re-joined.

Encrypted PDFs are tried with the empty password (common for "protected" but public papers);
scanned PDFs without a text layer are skipped with a reason instead of yielding an empty SNO.

A few kilobytes of PDF can hold compressed content streams that expand to millions of
characters, shared by many pages. The page count and the extracted characters are checked
against :class:`~cns.ingestion.loaders.base.LoaderLimits` page by page, so such a file stops as
soon as it crosses a limit; the wall time and memory of the parse are bounded by the process it
runs in (:mod:`cns.ingestion.loaders.sandbox`).
"""

from __future__ import annotations

import io
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from cns.ingestion.document import Document, make_document
from cns.ingestion.loaders.base import DEFAULT_LIMITS, LoaderLimits, SkippedFileError
from cns.ingestion.loaders.headers import text_header_metadata
from cns.logging_setup import get_logger

log = get_logger(__name__)

_HYPHEN_BREAK = re.compile(r"(\w)-\n(\w)")
_PDF_DATE = re.compile(r"D:(\d{4})(\d{2})?(\d{2})?")


def _pdf_date(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.date().isoformat()
    match = _PDF_DATE.match(str(value or ""))
    if not match:
        return None
    year, month, day = match.group(1), match.group(2) or "01", match.group(3) or "01"
    return f"{year}-{month}-{day}"


def _info(reader: Any) -> dict[str, Any]:
    info = reader.metadata or {}
    found = {
        "title": str(info.get("/Title") or "").strip() or None,
        "author": str(info.get("/Author") or "").strip() or None,
        "date": _pdf_date(info.get("/CreationDate")),
    }
    return {k: v for k, v in found.items() if v}


def _read(data: bytes, path: str | Path, limits: LoaderLimits) -> tuple[list[str], dict[str, Any], int]:
    """(page texts, info metadata, page count) of a PDF, or a skip with the reason.

    pypdf is not hardened against hostile files: besides its own errors (``LimitReachedError`` on
    self-referencing objects, ``PdfStreamError`` …) a malformed file makes it raise ``IndexError``,
    ``AttributeError``, ``AssertionError``, ``zlib.error`` and more. Any exception while pypdf reads
    this file means the file cannot be read, so every one becomes a skip (found by fuzzing, issue 8).
    """
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise SkippedFileError(path, "encrypted PDF (a password is required)")
        count = len(reader.pages)
        if count > limits.max_pdf_pages:
            raise SkippedFileError(
                path, f"PDF has {count:,} pages > limit {limits.max_pdf_pages:,} (loaders.max_pdf_pages)"
            )
        pages: list[str] = []
        chars = 0
        for page in reader.pages:
            pages.append(page.extract_text() or "")
            chars += len(pages[-1])
            if chars > limits.max_chars:
                raise SkippedFileError(
                    path,
                    f"PDF text too long: over {limits.max_chars:,} characters by page {len(pages)} of "
                    f"{count} (loaders.max_chars)",
                )
        return pages, _info(reader), count
    except (SkippedFileError, MemoryError):
        raise  # a memory error is the parser process's limit (sandbox), not a malformed file
    except Exception as exc:
        log.info("ingestion.pdf_unreadable", path=str(path), error=type(exc).__name__)
        raise SkippedFileError(path, f"unreadable PDF: {type(exc).__name__}: {exc}"[:500]) from exc


def load_pdf(
    data: bytes,
    path: str | Path,
    metadata: dict[str, Any] | None = None,
    *,
    limits: LoaderLimits = DEFAULT_LIMITS,
) -> list[Document]:
    if not data.lstrip()[:5] == b"%PDF-":
        raise SkippedFileError(path, "not a PDF (missing %PDF- header)")
    pages, info, page_count = _read(data, path, limits)
    text = _HYPHEN_BREAK.sub(r"\1\2", "\n\n".join(p.strip() for p in pages if p.strip()))
    if not text.strip():
        raise SkippedFileError(path, "PDF has no text layer (scanned image?); OCR it first")
    found = {**text_header_metadata(text), **info}
    return [
        make_document(text, str(path), {**found, **(metadata or {}), "format": "pdf", "pages": page_count})
    ]
