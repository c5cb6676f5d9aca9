"""Vector indexes behind the :class:`cns.ports.VectorIndex` port (exact NumPy, faiss flat / HNSW).

The faiss-backed names are imported lazily, so importing the exact index (the novelty critic's
default) does not pay for faiss and the SQL store.
"""

from __future__ import annotations

import importlib
from typing import Any

from cns.index.memory import ExactVectorIndex

_LAZY = {
    "FaissVectorIndex": "cns.index.faiss_index",
    "IndexKind": "cns.index.faiss_index",
    "StoreReferenceIndex": "cns.index.store_reference",
    "SyncedIndex": "cns.index.synced",
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
