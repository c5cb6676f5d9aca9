"""Document loaders: ``.txt``, ``.md``, ``.html``, ``.pdf``, ``.jsonl`` and folders (recursive)."""

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
