"""``StoreReferenceIndex``: a worker's in-memory novelty reference set that follows the store.

Workers keep no population of their own (docs/design-notes.md#one-shared-population): the
reference set (active SNOs with ``T ≥ τ_ref``) is a faiss index brought up to date from the store's change feed before every use, so
whatever another worker admitted a moment ago counts on this worker's next task. Unlike
:class:`~cns.index.synced.SyncedIndex` it is never saved: a worker rebuilds it from the store when
it starts, which is cheap next to loading the models.

Syncing before every task must be nearly free when nothing changed, so :meth:`sync` goes through
:func:`~cns.index.persistence.sync_from_store`, whose first read is the store's change counter:
unchanged counter, one primary-key read, no change rows fetched. ``syncs`` and ``advances``
count what happened (tests assert on them rather than on timings).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

from cns.core.sno import SNOStatus
from cns.index.faiss_index import FaissVectorIndex
from cns.index.persistence import ChangeFeed, sync_from_store
from cns.ports import FloatArray

_ACTIVE = frozenset({SNOStatus.ACTIVE.value})


class StoreReferenceIndex:
    """A :class:`~cns.ports.VectorIndex` of trusted active SNOs that follows ``store``."""

    def __init__(self, store: ChangeFeed, *, dimension: int, min_trust: float) -> None:
        self.store = store
        self.min_trust = min_trust
        self.synced_seq = 0
        #: how many times :meth:`sync` ran, and how many of those found the counter moved
        self.syncs = 0
        self.advances = 0
        self._index = FaissVectorIndex(dimension)
        self._lock = threading.Lock()

    def sync(self) -> int:
        """Apply the store's changes since the last sync; return how far the seq advanced."""
        with self._lock:
            before = self.synced_seq
            self.synced_seq = sync_from_store(
                self._index, self.store, before, statuses=_ACTIVE, min_trust=self.min_trust
            )
            self.syncs += 1
            if self.synced_seq != before:
                self.advances += 1
            return self.synced_seq - before

    # ------------------------------------------------------------------ VectorIndex port
    @property
    def dimension(self) -> int:
        return self._index.dimension

    def __len__(self) -> int:
        return len(self._index)

    def add(self, ids: Sequence[str], vectors: FloatArray) -> None:
        self._index.add(ids, vectors)

    def remove(self, ids: Iterable[str]) -> int:
        return self._index.remove(ids)

    def search(self, queries: FloatArray, k: int) -> list[list[tuple[str, float]]]:
        return self._index.search(queries, k)

    def ids(self) -> list[str]:
        return self._index.ids()
