"""``ReferenceIndex``: the one faiss index of SNO hypotheses that follows the store's change feed.

The novelty critic scores a narrative against a reference set — the active SNOs with trust at
least ``thresholds.novelty_reference_trust`` (docs/design-notes.md#the-novelty-reference-set).
That set used to be kept three ways (a saved index for the CLI, an unsaved one per worker, an
exact index rebuilt from the whole population for in-memory managers and again for every
synthesis attempt), and each way could drift from the others. Now every process — the CLI, a
worker, the API — and every store (in-memory, SQLite, PostgreSQL) keeps it the same way:

* **It follows the store.** Every SNO write and delete is numbered; :meth:`sync` applies what
  came after the last number it applied (admissions, re-scored trust, archivals, deletions), so
  what another process stored a moment ago counts on this process's next use. A sync that finds
  the store's change counter unmoved is one primary-key read; ``syncs`` and ``advances`` count
  what happened (tests assert on them rather than on timings).
* **Configured from ``index.*``.** ``kind`` (flat = exact, hnsw = approximate), ``hnsw_m``,
  ``ef_search``, ``ef_construction`` and ``rebuild_ratio`` apply to a built and a loaded index.
* **Saved or not.** With a ``path`` (the CLI's ``data_dir/index/reference.faiss``) it is loaded
  at open — rebuilt from the store, with a warning, when the file is missing, corrupt or was
  saved for another dimension, kind, model or selection — and :meth:`save` writes it back.
  Without one (workers, the API, an in-memory manager) it starts empty and its first sync reads
  the whole feed, which is cheap next to loading the models, and several processes never write
  one file.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterable, Sequence
from pathlib import Path

from cns.config.settings import CNSConfig, IndexConfig
from cns.core.sno import SNOStatus
from cns.errors import VectorIndexError
from cns.index.faiss_index import FaissVectorIndex
from cns.index.persistence import load_index, save_index, sync_from_store
from cns.logging_setup import get_logger
from cns.ports import ChangeFeed, FloatArray

log = get_logger(__name__)

#: The statuses of the novelty reference set: admitted narratives only.
ACTIVE_ONLY = frozenset({SNOStatus.ACTIVE.value})


def new_faiss_index(dimension: int, settings: IndexConfig) -> FaissVectorIndex:
    """An empty faiss index with the ``index.*`` settings."""
    return FaissVectorIndex(
        dimension,
        settings.kind,
        hnsw_m=settings.hnsw_m,
        ef_construction=settings.ef_construction,
        ef_search=settings.ef_search,
        rebuild_ratio=settings.rebuild_ratio,
    )


def open_saved_index(
    path: Path,
    *,
    dimension: int,
    settings: IndexConfig,
    model_name: str,
    selection: str,
    rebuild: Callable[[FaissVectorIndex], int],
) -> tuple[FaissVectorIndex, int, bool]:
    """Load the index saved at ``path``, or build it anew with ``rebuild`` and save it.

    Every index that follows the store (hypotheses, claims) is kept the same way: a saved file is
    used only if it matches the dimension, settings, model and selection asked for; otherwise
    ``rebuild(empty_index)`` refills it from the store and returns the change number it reached.
    Returns (index, synced change number, whether it was loaded rather than rebuilt).
    """
    try:
        index, synced_seq = load_index(
            path,
            dimension=dimension,
            kind=settings.kind,
            model_name=model_name,
            ef_construction=settings.ef_construction,
            ef_search=settings.ef_search,
            rebuild_ratio=settings.rebuild_ratio,
            selection=selection,
        )
        log.info("index.loaded", path=str(path), size=len(index), synced_seq=synced_seq)
        return index, synced_seq, True
    except VectorIndexError as exc:
        if path.exists():
            log.warning("index.rebuild", path=str(path), reason=exc.message)
        else:
            log.info("index.build", path=str(path), reason="no saved index")
    index = new_faiss_index(dimension, settings)
    synced_seq = rebuild(index)
    save_index(index, path, synced_seq=synced_seq, model_name=model_name, selection=selection)
    return index, synced_seq, False


class ReferenceIndex:
    """A :class:`~cns.ports.VectorIndex` of the hypotheses of the store's SNOs that pass a filter.

    ``statuses`` (None = every status) and ``min_trust`` (None = any trust, even none) select the
    SNOs; an SNO that stops passing (archived, re-scored lower, deleted) leaves on the next sync.
    """

    def __init__(
        self,
        feed: ChangeFeed,
        settings: IndexConfig,
        *,
        dimension: int,
        statuses: Collection[str] | None = None,
        min_trust: float | None = None,
        path: Path | None = None,
        model_name: str | None = None,
    ) -> None:
        if path is not None and not model_name:
            raise VectorIndexError("a saved reference index needs the embedder's model name", path=str(path))
        self.feed = feed
        self.settings = settings
        self.statuses = None if statuses is None else frozenset(statuses)
        self.min_trust = min_trust
        self.path = path
        self.model_name = model_name
        #: the number of the last store change applied
        self.synced_seq = 0
        #: how many times :meth:`sync` ran, and how many of those found the counter moved
        self.syncs = 0
        self.advances = 0
        self._lock = threading.Lock()
        self.index = new_faiss_index(dimension, settings) if path is None else self._open(dimension, path)

    @classmethod
    def novelty_reference(
        cls, feed: ChangeFeed, config: CNSConfig, *, path: Path | None = None, model_name: str | None = None
    ) -> ReferenceIndex:
        """The novelty reference set of ``config``: active SNOs with ``T ≥ τ_ref``."""
        return cls(
            feed,
            config.index,
            dimension=config.embedding_dim,
            statuses=ACTIVE_ONLY,
            min_trust=config.thresholds.novelty_reference_trust,
            path=path,
            model_name=model_name,
        )

    @property
    def selection(self) -> str:
        """Which SNOs the index holds, in words (stored beside a saved index and checked on load)."""
        statuses = "any status" if self.statuses is None else "status " + "|".join(sorted(self.statuses))
        trust = "any trust" if self.min_trust is None else f"trust >= {self.min_trust:g}"
        return f"{statuses}, {trust}"

    @property
    def persisted(self) -> bool:
        return self.path is not None

    def sync(self) -> int:
        """Apply the store's changes since the last sync; return how far the seq advanced."""
        with self._lock:
            before = self.synced_seq
            self.synced_seq = sync_from_store(
                self.index, self.feed, before, statuses=self.statuses, min_trust=self.min_trust
            )
            self.syncs += 1
            if self.synced_seq != before:
                self.advances += 1
            return self.synced_seq - before

    def save(self) -> None:
        """Write the index and the seq it reflects to its file (atomically)."""
        if self.path is None or self.model_name is None:
            raise VectorIndexError("this reference index is kept in memory only; it has no file to save to")
        with self._lock:
            save_index(
                self.index,
                self.path,
                synced_seq=self.synced_seq,
                model_name=self.model_name,
                selection=self.selection,
            )

    # ------------------------------------------------------------------ VectorIndex port
    @property
    def dimension(self) -> int:
        return self.index.dimension

    def __len__(self) -> int:
        return len(self.index)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self.index

    def add(self, ids: Sequence[str], vectors: FloatArray) -> None:
        self.index.add(ids, vectors)

    def remove(self, ids: Iterable[str]) -> int:
        return self.index.remove(ids)

    def search(self, queries: FloatArray, k: int) -> list[list[tuple[str, float]]]:
        return self.index.search(queries, k)

    def ids(self) -> list[str]:
        return self.index.ids()

    # ------------------------------------------------------------------ internals
    def _open(self, dimension: int, path: Path) -> FaissVectorIndex:
        """Load the saved index, or rebuild it from the store (and save it) when it is unusable."""
        assert self.model_name is not None

        def rebuild(index: FaissVectorIndex) -> int:
            return sync_from_store(index, self.feed, 0, statuses=self.statuses, min_trust=self.min_trust)

        index, self.synced_seq, _ = open_saved_index(
            path, dimension=dimension, settings=self.settings, model_name=self.model_name,
            selection=self.selection, rebuild=rebuild,
        )  # fmt: skip
        return index

    def __repr__(self) -> str:
        where = str(self.path) if self.path is not None else "memory"
        return f"ReferenceIndex({self.selection}, size={len(self)}, synced_seq={self.synced_seq}, {where})"
