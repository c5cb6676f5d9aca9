"""``SyncedIndex``: a faiss index that follows the store, for long-running processes.

At start it loads the saved index (or rebuilds it from the store when the file is missing,
corrupt or was built for another dimension / kind / model — with a warning, never an error,
since the store is the source of truth), then catches up with the store's change feed.
Callers call :meth:`sync` before searching and :meth:`save` periodically and on shutdown.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from pathlib import Path

from cns.errors import VectorIndexError
from cns.index.faiss_index import FaissVectorIndex, IndexKind
from cns.index.persistence import ChangeFeed, load_index, rebuild_from_store, save_index, sync_from_store
from cns.logging_setup import get_logger

log = get_logger(__name__)


class SyncedIndex:
    """Owns one :class:`FaissVectorIndex`, its file and the store seq it reflects."""

    def __init__(
        self,
        index: FaissVectorIndex,
        store: ChangeFeed,
        path: Path,
        *,
        synced_seq: int,
        model_name: str,
        statuses: Collection[str] | None = None,
        min_trust: float | None = None,
    ) -> None:
        self.index = index
        self.store = store
        self.path = path
        self.synced_seq = synced_seq
        self.model_name = model_name
        self.statuses = None if statuses is None else frozenset(statuses)
        self.min_trust = min_trust
        self._lock = threading.Lock()

    @classmethod
    def open(
        cls,
        path: Path,
        store: ChangeFeed,
        *,
        dimension: int,
        model_name: str,
        kind: IndexKind | str = IndexKind.FLAT,
        hnsw_m: int = 32,
        ef_construction: int = 200,
        ef_search: int = 256,
        rebuild_ratio: float = 0.2,
        statuses: Collection[str] | None = None,
        min_trust: float | None = None,
    ) -> SyncedIndex:
        """Load or rebuild the index at ``path``, then sync it with ``store``.

        ``kind`` and the HNSW settings are the ``index.*`` configuration (``hnsw_m`` applies when
        the graph is built; the others also to a loaded index)."""
        try:
            index, seq = load_index(
                path,
                dimension=dimension,
                kind=kind,
                model_name=model_name,
                ef_construction=ef_construction,
                ef_search=ef_search,
                rebuild_ratio=rebuild_ratio,
            )
            log.info("index.loaded", path=str(path), size=len(index), synced_seq=seq)
        except VectorIndexError as exc:
            if path.exists():
                log.warning("index.rebuild", path=str(path), reason=exc.message)
            else:
                log.info("index.build", path=str(path), reason="no saved index")
            index, seq = rebuild_from_store(
                store,
                dimension=dimension,
                kind=kind,
                hnsw_m=hnsw_m,
                statuses=statuses,
                min_trust=min_trust,
                ef_construction=ef_construction,
                ef_search=ef_search,
                rebuild_ratio=rebuild_ratio,
            )
            synced = cls(
                index,
                store,
                path,
                synced_seq=seq,
                model_name=model_name,
                statuses=statuses,
                min_trust=min_trust,
            )
            synced.save()
            return synced
        synced = cls(
            index, store, path, synced_seq=seq, model_name=model_name, statuses=statuses, min_trust=min_trust
        )
        synced.sync()
        return synced

    def sync(self) -> int:
        """Apply store changes since the last sync; return how far the seq advanced."""
        with self._lock:
            before = self.synced_seq
            self.synced_seq = sync_from_store(
                self.index, self.store, before, statuses=self.statuses, min_trust=self.min_trust
            )
            return self.synced_seq - before

    def save(self) -> None:
        with self._lock:
            save_index(self.index, self.path, synced_seq=self.synced_seq, model_name=self.model_name)
