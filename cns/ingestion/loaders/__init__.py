"""Document loaders: ``.txt``, ``.md``, ``.html``, ``.pdf``, ``.jsonl`` and folders (recursive)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cns.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from cns.ingestion.loaders.base import DEFAULT_MAX_BYTES, LoadResult, SkippedFile, SkippedFileError
    from cns.ingestion.loaders.dispatch import SUPPORTED_SUFFIXES, load_file, load_path


__all__ = [
    "DEFAULT_MAX_BYTES",
    "SUPPORTED_SUFFIXES",
    "LoadResult",
    "SkippedFile",
    "SkippedFileError",
    "load_file",
    "load_path",
]

_EXPORTS = {
    "DEFAULT_MAX_BYTES": "cns.ingestion.loaders.base",
    "LoadResult": "cns.ingestion.loaders.base",
    "SkippedFile": "cns.ingestion.loaders.base",
    "SkippedFileError": "cns.ingestion.loaders.base",
    "SUPPORTED_SUFFIXES": "cns.ingestion.loaders.dispatch",
    "load_file": "cns.ingestion.loaders.dispatch",
    "load_path": "cns.ingestion.loaders.dispatch",
}

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
