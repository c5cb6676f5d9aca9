"""Open the single-machine runtime: SQL store, persisted reference index and workflow manager.

Used by the CLI (``cns run``, ``cns ingest`` …) and by the workers, so every edge builds the
product the same way: the store is SQLite under ``data_dir`` unless ``database_url`` is set,
the novelty reference index lives in ``data_dir/index/reference.faiss`` and follows the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from cns.config.settings import CNSConfig
from cns.core.sno import SNOStatus
from cns.index.synced import SyncedIndex
from cns.ports import Embedder, LLMClient, NLIModel
from cns.store.sql import SQLStore
from cns.workflow.manager import CNSWorkflowManager


@dataclass
class Runtime:
    """Everything one process needs; close it (or use ``with``) to save the index."""

    config: CNSConfig
    store: SQLStore
    manager: CNSWorkflowManager
    reference: SyncedIndex
    closed: bool = field(default=False)

    def close(self) -> None:
        if not self.closed:
            self.manager.close_llm()
            self.reference.save()
            self.store.close()
            self.closed = True

    def __enter__(self) -> Runtime:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def open_runtime(
    config: CNSConfig | None = None,
    *,
    data_dir: Path | None = None,
    embedder: Embedder | None = None,
    nli: NLIModel | None = None,
    llm: LLMClient | None = None,
) -> Runtime:
    """Open (creating and migrating if needed) the store and index and build the manager."""
    config = config or CNSConfig()
    if data_dir is not None:
        config = config.model_copy(update={"data_dir": data_dir})
    config.data_dir.mkdir(parents=True, exist_ok=True)
    store = SQLStore.open(config=config)
    manager = CNSWorkflowManager(config, embedder=embedder, nli=nli, llm=llm, store=store)
    reference = SyncedIndex.open(
        config.data_dir / "index" / "reference.faiss",
        store,
        dimension=config.embedding_dim,
        model_name=f"{manager.embedder.name}@{manager.embedder.version}",
        kind=config.index.kind,
        hnsw_m=config.index.hnsw_m,
        ef_construction=config.index.ef_construction,
        ef_search=config.index.ef_search,
        rebuild_ratio=config.index.rebuild_ratio,
        statuses={SNOStatus.ACTIVE.value},
        min_trust=config.thresholds.novelty_reference_trust,
    )
    manager.attach_reference(reference)
    return Runtime(config, store, manager, reference)
