"""The population as seen by a worker: the database plus a reference index synced from it (G14).

The guide's workers each kept their own in-memory population, so novelty and pair search
differed between replicas. Here every worker process holds only a *cache*: the novelty reference
index (active SNOs with ``T ≥ τ_ref``, spec G6), brought up to date from the store's monotonic
``seq`` change feed before every use. Whatever another worker admitted a moment ago is therefore
part of this worker's reference set on its next task, and no state exists only in a worker.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from cns.config.settings import CNSConfig
from cns.core.sno import SNOStatus
from cns.index.faiss_index import FaissVectorIndex
from cns.ports import Embedder, FloatArray, LLMClient, NLIModel, VectorIndex
from cns.store.sql import JobRecord, SQLStore
from cns.store.sql.records import embedding_from_bytes
from cns.store.sql.schema import SNORow, SNOTombstone
from cns.workflow.manager import CNSWorkflowManager

SYNC_PAGE = 5000


class StoreReferenceIndex:
    """A :class:`~cns.ports.VectorIndex` of trusted active SNOs that follows the store."""

    def __init__(self, store: SQLStore, *, dimension: int, min_trust: float) -> None:
        self.store = store
        self.min_trust = min_trust
        self.synced_seq = 0
        self._index = FaissVectorIndex(dimension)
        self._lock = threading.Lock()

    def sync(self) -> int:
        """Apply the store's changes since the last sync; return how many SNOs changed."""
        with self._lock:
            changed = 0
            while True:
                rows, dead, last = self._changes_since(self.synced_seq)
                if last <= self.synced_seq:
                    return changed
                keep_ids: list[str] = []
                keep_vectors: list[FloatArray] = []
                drop = list(dead)
                for sno_id, raw, status, trust in rows:
                    vector = embedding_from_bytes(raw)
                    wanted = (
                        status == SNOStatus.ACTIVE.value and trust is not None and trust >= self.min_trust
                    )
                    if wanted and vector is not None and vector.shape[0] == self._index.dimension:
                        keep_ids.append(sno_id)
                        keep_vectors.append(vector)
                    else:
                        drop.append(sno_id)
                if drop:
                    self._index.remove(drop)
                if keep_ids:
                    self._index.add(keep_ids, np.vstack(keep_vectors).astype(np.float32))
                changed += len(rows) + len(dead)
                self.synced_seq = last

    def _changes_since(self, seq: int) -> tuple[list[Any], list[str], int]:
        live = (
            select(SNORow.seq, SNORow.sno_id, SNORow.embedding, SNORow.status, SNORow.trust)
            .where(SNORow.seq > seq)
            .order_by(SNORow.seq)
            .limit(SYNC_PAGE)
        )
        tomb = (
            select(SNOTombstone.seq, SNOTombstone.sno_id)
            .where(SNOTombstone.seq > seq)
            .order_by(SNOTombstone.seq)
            .limit(SYNC_PAGE)
        )
        with Session(self.store.engine) as session:
            rows = session.execute(live).all()
            dead = session.execute(tomb).all()
        # a page boundary: only trust changes up to the smaller of both pages' last seq
        horizon = min(
            rows[-1][0] if len(rows) == SYNC_PAGE else float("inf"),
            dead[-1][0] if len(dead) == SYNC_PAGE else float("inf"),
        )
        rows = [r for r in rows if r[0] <= horizon]
        dead = [d for d in dead if d[0] <= horizon]
        last = max([seq, *(r[0] for r in rows), *(d[0] for d in dead)])
        return [(r[1], r[2], r[3], r[4]) for r in rows], [d[1] for d in dead], int(last)

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


class SharedStateManager(CNSWorkflowManager):
    """A workflow manager whose novelty reference is the store-synced index, not a private list."""

    def __init__(
        self,
        config: CNSConfig,
        *,
        store: SQLStore,
        embedder: Embedder | None = None,
        nli: NLIModel | None = None,
        llm: LLMClient | None = None,
    ) -> None:
        super().__init__(config, embedder=embedder, nli=nli, llm=llm, store=store)
        self.sql_store = store
        self.shared_reference = StoreReferenceIndex(
            store, dimension=config.embedding_dim, min_trust=config.thresholds.novelty_reference_trust
        )

    def reference_index(self) -> VectorIndex:
        self.shared_reference.sync()
        return self.shared_reference

    def reevaluate(self, sno_id: str) -> dict[str, object]:
        """Re-run the critics on a stored SNO against the current shared population (idempotent)."""
        sno = self.sql_store.get(sno_id)
        self.evaluator.evaluate(sno, reference_index=self.reference_index(), exclude_ids=[sno_id])
        self.sql_store.put(sno)
        return {"sno_id": sno_id, "trust_score": sno.trust_score}

    def ingest_job(self, job: JobRecord) -> dict[str, Any]:
        """The ``ingest`` job handler: the SNO id is derived from the document, so reruns are no-ops."""
        payload = job.payload
        sno = self.ingest_and_evaluate(
            str(payload["text"]), str(payload["source"]), dict(payload.get("metadata") or {})
        )
        return {
            "sno_id": sno.sno_id,
            "document_id": payload.get("document_id"),
            "status": sno.status.value,
            "trust_score": sno.trust_score,
        }
