"""PDF text through ``pypdf``: page text joined by blank lines, words hyphenated at line ends re-joined.

Encrypted PDFs are tried with the empty password (common for "protected" but public papers);
scanned PDFs without a text layer are skipped with a reason instead of yielding an empty SNO.
"""

from __future__ import annotations

import io
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from cns.ingestion.document import Document, make_document
from cns.ingestion.loaders.base import SkippedFileError
from cns.ingestion.loaders.headers import text_header_metadata

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


def load_pdf(data: bytes, path: str | Path, metadata: dict[str, Any] | None = None) -> list[Document]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if not data.lstrip()[:5] == b"%PDF-":
        raise SkippedFileError(path, "not a PDF (missing %PDF- header)")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise SkippedFileError(path, "encrypted PDF (a password is required)")
        pages = [page.extract_text() or "" for page in reader.pages]
    except SkippedFileError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise SkippedFileError(path, f"unreadable PDF: {exc}") from exc
    text = _HYPHEN_BREAK.sub(r"\1\2", "\n\n".join(p.strip() for p in pages if p.strip()))
    if not text.strip():
        raise SkippedFileError(path, "PDF has no text layer (scanned image?); OCR it first")
    found = {**text_header_metadata(text), **_info(reader)}
    return [
        make_document(
            text, str(path), {**found, **(metadata or {}), "format": "pdf", "pages": len(reader.pages)}
        )
    ]
