"""The population as seen by a worker: the database plus a reference index synced from it.

Workers that each kept their own in-memory population would disagree about novelty and pairs
(docs/design-notes.md#one-shared-population). Here every worker process holds only a *cache*:
the novelty reference index (active SNOs with ``T ≥ τ_ref``), brought up to date from the
store's monotonic ``seq`` change feed before every use (:class:`~cns.index.store_reference.StoreReferenceIndex`;
a sync that finds the store's change counter unmoved is one primary-key read). Whatever another
worker admitted a moment ago is therefore part of this worker's reference set on its next task,
and no state exists only in a worker.
"""

from __future__ import annotations

from cns.config.settings import CNSConfig
from cns.index.store_reference import StoreReferenceIndex
from cns.ports import Embedder, LLMClient, NLIModel, VectorIndex
from cns.store.sql import SQLStore
from cns.workflow.manager import CNSWorkflowManager

__all__ = ["SharedStateManager", "StoreReferenceIndex"]


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
