"""Turn uploaded files into documents with the same loaders as ``cns run`` (no temp files).

A loader only uses the path as a *name* (the document's ``source``) and for its extension, so
the upload's base name stands in for it; the bytes were already bounded by the API body limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from cns.errors import IngestionError
from cns.ingestion.document import Document
from cns.ingestion.loaders.base import SkippedFile, SkippedFileError, looks_binary
from cns.ingestion.loaders.dispatch import LOADERS
from cns.ingestion.loaders.jsonl import load_jsonl
from cns.ingestion.loaders.text import load_txt


@dataclass
class UploadResult:
    documents: list[Document] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)


def safe_name(filename: str | None) -> str:
    """The upload's base name without any directory part (never trusted as a path)."""
    name = PurePosixPath((filename or "").replace("\\", "/")).name.strip()
    return name[:255] or "upload.txt"


def load_upload(filename: str | None, data: bytes) -> UploadResult:
    """Documents in one uploaded file; an unusable file becomes a skipped entry with its reason."""
    name = safe_name(filename)
    path = Path(name)  # a bare name: used as the source label and for its extension, never opened
    suffix = path.suffix.lower()
    try:
        if suffix == ".jsonl":
            loaded = load_jsonl(data, path, None)
            return UploadResult(list(loaded.documents), list(loaded.skipped))
        loader = LOADERS.get(suffix)
        if loader is None:
            if looks_binary(data) and data.lstrip()[:5] != b"%PDF-":
                return UploadResult(skipped=[SkippedFile(name, "binary content; unsupported file type")])
            loader = LOADERS[".pdf"] if data.lstrip()[:5] == b"%PDF-" else load_txt
        return UploadResult(documents=loader(data, path, None))
    except SkippedFileError as exc:
        return UploadResult(skipped=[SkippedFile(name, exc.reason)])
    except IngestionError as exc:
        return UploadResult(skipped=[SkippedFile(name, exc.message)])
    except (ValueError, UnicodeError, RecursionError) as exc:
        return UploadResult(skipped=[SkippedFile(name, f"unreadable: {type(exc).__name__}")])
