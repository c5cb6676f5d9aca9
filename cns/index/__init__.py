"""Vector indexes behind the :class:`cns.ports.VectorIndex` port (exact NumPy, faiss flat / HNSW).

The faiss-backed names are imported lazily, so importing the exact index (pair search's topic
neighbours, a list of SNOs scored on its own) does not pay for faiss.
"""

from __future__ import annotations

import importlib
from typing import Any

from cns.index.memory import ExactVectorIndex

_LAZY = {
    "FaissVectorIndex": "cns.index.faiss_index",
    "IndexKind": "cns.index.faiss_index",
    "ReferenceIndex": "cns.index.reference",
    "search_threads": "cns.index.faiss_index",
    "load_index": "cns.index.persistence",
    "rebuild_from_store": "cns.index.persistence",
    "save_index": "cns.index.persistence",
    "sync_from_store": "cns.index.persistence",
}

__all__ = ["ExactVectorIndex", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'cns.index' has no attribute {name!r}")
