"""The one reference index that follows the store: synced before every use, cheap when nothing
changed, the same for an in-memory and a SQL store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import faiss
import pytest

from cns.config.settings import IndexConfig
from cns.core.sno import SNOStatus
from cns.errors import VectorIndexError
from cns.index.faiss_index import SMALL_SEARCH_QUERIES, search_threads
from cns.index.reference import ACTIVE_ONLY, ReferenceIndex
from cns.store.memory import InMemorySNOStore
from cns.store.sql import SQLStore
from cns.testing.contracts import sample_sno
from tests.store.sql_contract import statements, touching


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLStore]:
    opened = SQLStore.open(tmp_path / "cns.sqlite3")
    yield opened
    opened.close()


def test_the_index_is_not_resynced_when_nothing_changed(store: SQLStore) -> None:
    reference = ReferenceIndex(store, IndexConfig(), dimension=8, statuses=ACTIVE_ONLY, min_trust=0.3)
    trusted = sample_sno("trusted", trust=0.9, status="active")
    store.put(trusted)
    assert reference.sync() == 1 and reference.ids() == [trusted.sno_id]
    with statements(store.engine) as sent:
        for _ in range(3):
            assert reference.sync() == 0
    assert (reference.syncs, reference.advances) == (4, 1)  # three syncs found the counter unmoved
    assert touching(sent, "snos") == [] and touching(sent, "sno_tombstones") == []
    assert len(touching(sent, "store_counters")) == 3  # one primary-key read each


def test_a_moved_counter_brings_admissions_trust_changes_and_deletions(store: SQLStore) -> None:
    reference = ReferenceIndex(store, IndexConfig(), dimension=8, statuses=ACTIVE_ONLY, min_trust=0.3)
    first, second = sample_sno("first", trust=0.9, status="active"), sample_sno("second", seed=1)
    store.put(first)
    reference.sync()
    second.trust_score, second.status = 0.8, SNOStatus.ACTIVE
    store.put(second)
    first.trust_score = 0.1  # falls below τ_ref: leaves the reference set
    store.put(first)
    assert reference.sync() == 2 and reference.ids() == [second.sno_id]
    store.delete(second.sno_id)
    assert reference.sync() == 1 and len(reference) == 0
    assert reference.synced_seq == store.current_seq() and reference.advances == 3


def test_small_searches_use_one_faiss_thread_and_restore_the_team(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scoped, not process-wide: faiss and torch share the OpenMP runtime, torch keeps its threads."""
    import torch

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    before_faiss, before_torch = faiss.omp_get_max_threads(), torch.get_num_threads()
    faiss.omp_set_num_threads(2)
    torch.set_num_threads(2)
    try:
        seen: list[int] = []
        with search_threads(1):
            seen.append(faiss.omp_get_max_threads())
        with search_threads(SMALL_SEARCH_QUERIES + 1):  # a batch keeps the team
            seen.append(faiss.omp_get_max_threads())
        monkeypatch.setenv("OMP_NUM_THREADS", "2")
        with search_threads(1):  # an operator's explicit choice wins
            seen.append(faiss.omp_get_max_threads())
        assert seen == [1, 2, 2]
        assert faiss.omp_get_max_threads() == 2 and torch.get_num_threads() == 2
    finally:
        faiss.omp_set_num_threads(before_faiss)
        torch.set_num_threads(before_torch)


def test_an_in_memory_store_is_followed_the_same_way() -> None:
    """The manager without a database keeps its reference set exactly as a worker does."""
    store = InMemorySNOStore()
    reference = ReferenceIndex(store, IndexConfig(), dimension=8, statuses=ACTIVE_ONLY, min_trust=0.3)
    kept, archived = sample_sno("kept", trust=0.9, status="active"), sample_sno("leaves", trust=0.8, seed=1)
    archived.status = SNOStatus.ACTIVE
    store.put_many([kept, archived])
    assert reference.sync() == 2 and sorted(reference.ids()) == sorted([kept.sno_id, archived.sno_id])
    archived.status = SNOStatus.ARCHIVED
    store.put(archived)
    assert reference.sync() == 1 and reference.ids() == [kept.sno_id]
    assert reference.sync() == 0 and (reference.syncs, reference.advances) == (3, 2)
    [[(best, score)]] = reference.search(kept.hypothesis_embedding[None, :], 1)  # type: ignore[index]
    assert best == kept.sno_id and score == pytest.approx(1.0, abs=1e-5)


def test_the_index_settings_reach_an_index_kept_in_memory() -> None:
    settings = IndexConfig(kind="hnsw", hnsw_m=8, ef_search=17, ef_construction=23, rebuild_ratio=0.5)
    reference = ReferenceIndex(InMemorySNOStore(), settings, dimension=8)
    index = reference.index
    assert (index.kind.value, index.hnsw_m, index.ef_search, index.ef_construction) == ("hnsw", 8, 17, 23)
    assert index.rebuild_ratio == 0.5 and not reference.persisted
    assert reference.selection == "any status, any trust"


def test_an_index_kept_in_memory_has_no_file_to_save(store: SQLStore) -> None:
    reference = ReferenceIndex(store, IndexConfig(), dimension=8)
    with pytest.raises(VectorIndexError, match="kept in memory only"):
        reference.save()


def test_a_saved_index_needs_the_model_name(store: SQLStore, tmp_path: Path) -> None:
    with pytest.raises(VectorIndexError, match="model name"):
        ReferenceIndex(store, IndexConfig(), dimension=8, path=tmp_path / "reference.faiss")
