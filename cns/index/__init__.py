"""Vector indexes behind the :class:`cns.ports.VectorIndex` port (exact NumPy, faiss flat / HNSW)."""

from cns.index.faiss_index import FaissVectorIndex, IndexKind
from cns.index.memory import ExactVectorIndex
from cns.index.persistence import load_index, rebuild_from_store, save_index, sync_from_store
from cns.index.synced import SyncedIndex

__all__ = [
    "ExactVectorIndex",
    "FaissVectorIndex",
    "IndexKind",
    "SyncedIndex",
    "load_index",
    "rebuild_from_store",
    "save_index",
    "sync_from_store",
]
