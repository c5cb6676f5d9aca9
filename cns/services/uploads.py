"""Turn uploaded files into documents with the same loaders as ``cns run`` (no temp files).

A loader only uses the path as a *name* (the document's ``source``) and for its extension, so
the upload's base name stands in for it; the bytes were already bounded by the API body limit.
PDF, HTML and Markdown are parsed in a child process under ``loaders`` limits (time, memory,
pages, characters); when every parser is busy :class:`ParsersBusy` propagates (the API answers
503 with Retry-After) instead of queueing requests behind a slow file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from cns.errors import IngestionError
from cns.ingestion.document import Document
from cns.ingestion.loaders.base import (
    DEFAULT_LIMITS,
    LoaderLimits,
    SkippedFile,
    SkippedFileError,
    looks_binary,
)
from cns.ingestion.loaders.dispatch import LOADERS, parse_bytes, within_limits
from cns.ingestion.loaders.jsonl import load_jsonl
from cns.ingestion.loaders.sandbox import ParsersBusy
from cns.ingestion.loaders.text import load_txt

__all__ = ["ParsersBusy", "UploadResult", "load_upload", "safe_name"]


@dataclass
class UploadResult:
    documents: list[Document] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)


def safe_name(filename: str | None) -> str:
    """The upload's base name without any directory part (never trusted as a path)."""
    name = PurePosixPath((filename or "").replace("\\", "/")).name.strip()
    return name[:255] or "upload.txt"


def load_upload(filename: str | None, data: bytes, *, limits: LoaderLimits = DEFAULT_LIMITS) -> UploadResult:
    """Documents in one uploaded file; an unusable file becomes a skipped entry with its reason."""
    name = safe_name(filename)
    path = Path(name)  # a bare name: used as the source label and for its extension, never opened
    suffix = path.suffix.lower()
    try:
        if len(data) > limits.max_file_bytes:
            mb = limits.max_file_bytes / (1024 * 1024)
            raise SkippedFileError(name, f"file too large: over {mb:.1f} MB (loaders.max_file_bytes)")
        if suffix == ".jsonl":
            loaded = within_limits(load_jsonl(data, path, None), limits)
            return UploadResult(list(loaded.documents), list(loaded.skipped))
        loader = LOADERS.get(suffix)
        if loader is None:
            if looks_binary(data) and data.lstrip()[:5] != b"%PDF-":
                return UploadResult(skipped=[SkippedFile(name, "binary content; unsupported file type")])
            loader = LOADERS[".pdf"] if data.lstrip()[:5] == b"%PDF-" else load_txt
        return UploadResult(documents=parse_bytes(loader, data, path, None, limits))
    except SkippedFileError as exc:
        return UploadResult(skipped=[SkippedFile(name, exc.reason)])
    except IngestionError as exc:
        return UploadResult(skipped=[SkippedFile(name, exc.message)])
    except (ValueError, UnicodeError, RecursionError) as exc:
        return UploadResult(skipped=[SkippedFile(name, f"unreadable: {type(exc).__name__}")])
