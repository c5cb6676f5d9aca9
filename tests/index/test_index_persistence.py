"""Saving, loading and syncing the faiss index against a real (SQLite) store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from cns.config.settings import IndexConfig
from cns.core.sno import SNOStatus
from cns.errors import VectorIndexError
from cns.index.faiss_index import FaissVectorIndex
from cns.index.memory import ExactVectorIndex
from cns.index.persistence import load_index, rebuild_from_store, save_index, sidecar_path, sync_from_store
from cns.index.reference import ReferenceIndex
from cns.store.sql import SQLStore
from cns.testing.contracts import sample_sno, unit_vectors

MODEL = "fake:hash-8"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLStore]:
    with SQLStore.open(tmp_path / "cns.sqlite3") as opened:
        yield opened


def fill(store: SQLStore, n: int, *, start: int = 0) -> list[str]:
    snos = [sample_sno(f"hypothesis {i}", seed=i, status="active") for i in range(start, start + n)]
    store.put_many(snos)
    return [s.sno_id for s in snos]


def same_results(a: FaissVectorIndex | ExactVectorIndex, b: FaissVectorIndex | ExactVectorIndex) -> None:
    queries = unit_vectors(5, 8, seed=99)
    assert sorted(a.ids()) == sorted(b.ids())
    assert [[i for i, _ in row] for row in a.search(queries, 4)] == [
        [i for i, _ in row] for row in b.search(queries, 4)
    ]


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_save_load_round_trip(tmp_path: Path, kind: str) -> None:
    index = FaissVectorIndex(8, kind)
    index.add([f"id{i}" for i in range(30)], unit_vectors(30, 8))
    index.remove(["id3"])
    path = tmp_path / "idx" / "snos.faiss"
    save_index(index, path, synced_seq=42, model_name=MODEL)
    loaded, seq = load_index(path, dimension=8, kind=kind, model_name=MODEL)
    assert seq == 42 and loaded.kind.value == kind
    same_results(index, loaded)
    loaded.add(["new"], unit_vectors(1, 8, seed=5))  # int ids continue after the saved ones
    assert len(loaded) == 30 and "id4" in loaded
    assert sorted(p.name for p in path.parent.iterdir()) == ["snos.faiss", "snos.faiss.json"]  # no temp files
    meta = json.loads(sidecar_path(path).read_text())
    assert (meta["dimension"], meta["kind"], meta["model_name"], meta["synced_seq"]) == (8, kind, MODEL, 42)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("missing", "no saved index"),
        ("truncate", "checksum"),
        ("sidecar", "unreadable"),
        ("dimension", "dimension"),
        ("model", "model_name"),
    ],
)
def test_load_refuses_damaged_or_mismatched_files(tmp_path: Path, damage: str, message: str) -> None:
    path = tmp_path / "snos.faiss"
    index = FaissVectorIndex(8)
    index.add(["a", "b"], unit_vectors(2, 8))
    save_index(index, path, synced_seq=2, model_name=MODEL)
    dimension, model = 8, MODEL
    if damage == "missing":
        path.unlink()
    elif damage == "truncate":
        path.write_bytes(path.read_bytes()[:40])
    elif damage == "sidecar":
        sidecar_path(path).write_text("{not json")
    elif damage == "dimension":
        dimension = 16
    else:
        model = "another-model"
    with pytest.raises(VectorIndexError, match=message):
        load_index(path, dimension=dimension, kind="flat", model_name=model)


def test_sync_applies_adds_updates_and_deletes_incrementally(store: SQLStore) -> None:
    ids = fill(store, 10)
    index = FaissVectorIndex(8)
    seq = sync_from_store(index, store, 0)
    assert seq == store.current_seq() == 10 and len(index) == 10
    moved = store.get(ids[0])
    moved.set_embedding(unit_vectors(1, 8, seed=500)[0])
    store.put(moved)
    store.delete(ids[1])
    fill(store, 2, start=10)
    seq = sync_from_store(index, store, seq, page=2)  # several pages
    assert seq == store.current_seq() and len(index) == 11 and ids[1] not in index
    assert np.allclose(index.get(ids[0]), unit_vectors(1, 8, seed=500)[0])
    fresh, fresh_seq = rebuild_from_store(store, dimension=8)
    assert fresh_seq == seq
    same_results(index, fresh)
    assert sync_from_store(index, store, seq) == seq  # nothing new: a no-op


def test_sync_filters_statuses_and_skips_wrong_dimensions(store: SQLStore) -> None:
    ids = fill(store, 4)
    archived = store.get(ids[2])
    archived.status = SNOStatus.ARCHIVED
    store.put(archived)
    odd = sample_sno("different model", seed=77)
    odd.set_embedding(np.ones(5, dtype=np.float32))
    store.put(odd)
    index = ExactVectorIndex(8)  # sync works for any VectorIndex
    sync_from_store(index, store, 0, statuses={"active"})
    assert sorted(index.ids()) == sorted([ids[0], ids[1], ids[3]])


def test_replaying_an_older_seq_converges(store: SQLStore) -> None:
    """Sync is idempotent, so an index saved with a stale synced_seq is harmless."""
    fill(store, 6)
    index = FaissVectorIndex(8, "hnsw")
    sync_from_store(index, store, 0)
    sync_from_store(index, store, 0)
    sync_from_store(index, store, 3)
    assert len(index) == 6 and len(set(index.ids())) == 6


def saved_reference(store: SQLStore, path: Path, **selection: object) -> ReferenceIndex:
    return ReferenceIndex(store, IndexConfig(), dimension=8, path=path, model_name=MODEL, **selection)  # type: ignore[arg-type]


def test_saved_reference_index_rebuilds_when_the_file_is_unusable(
    tmp_path: Path, store: SQLStore, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = fill(store, 8)
    path = tmp_path / "index" / "snos.faiss"
    first = saved_reference(store, path)
    assert len(first.index) == 8 and path.is_file() and first.synced_seq == 8
    store.delete(ids[0])
    fill(store, 3, start=50)
    assert first.sync() == 4
    first.save()

    reopened = saved_reference(store, path)
    assert reopened.synced_seq == store.current_seq()
    same_results(first.index, reopened.index)

    path.write_bytes(b"garbage")
    capsys.readouterr()
    healed = saved_reference(store, path)
    assert "index.rebuild" in capsys.readouterr().out
    same_results(first.index, healed.index)
    loaded, seq = load_index(path, dimension=8, kind="flat", model_name=MODEL)  # rebuilt file was saved
    assert seq == store.current_seq() and len(loaded) == 10


def test_a_file_saved_for_another_selection_is_rebuilt(
    tmp_path: Path, store: SQLStore, capsys: pytest.CaptureFixture[str]
) -> None:
    """Raising τ_ref must not keep the SNOs a file saved under the lower threshold still holds."""
    snos = [sample_sno(f"h{i}", seed=i, status="active") for i in range(3)]
    for sno, trust in zip(snos, (0.45, 0.6, 0.9), strict=True):
        sno.trust_score = trust
    store.put_many(snos)
    path = tmp_path / "reference.faiss"
    assert len(saved_reference(store, path, statuses={"active"}, min_trust=0.4)) == 3
    capsys.readouterr()
    stricter = saved_reference(store, path, statuses={"active"}, min_trust=0.5)
    assert "index.rebuild" in capsys.readouterr().out
    assert sorted(stricter.ids()) == sorted([snos[1].sno_id, snos[2].sno_id])
    assert stricter.selection == "status active, trust >= 0.5"


def test_crash_between_the_two_replaces_is_detected(tmp_path: Path) -> None:
    """New faiss file + old sidecar (a crash between the renames) must not be trusted."""
    path = tmp_path / "snos.faiss"
    index = FaissVectorIndex(8)
    index.add(["a"], unit_vectors(1, 8))
    save_index(index, path, synced_seq=1, model_name=MODEL)
    old_sidecar = sidecar_path(path).read_text()
    index.add(["b"], unit_vectors(1, 8, seed=3))
    save_index(index, path, synced_seq=2, model_name=MODEL)
    sidecar_path(path).write_text(old_sidecar)
    with pytest.raises(VectorIndexError, match="checksum"):
        load_index(path, dimension=8, kind="flat", model_name=MODEL)


def test_sync_filters_by_minimum_trust_and_follows_trust_changes(store: SQLStore) -> None:
    snos = [sample_sno(f"h{i}", seed=i, status="active") for i in range(4)]
    for sno, trust in zip(snos, (0.2, 0.5, 0.9, None), strict=True):
        sno.trust_score = trust
    store.put_many(snos)
    index = FaissVectorIndex(8)
    seq = sync_from_store(index, store, 0, statuses={"active"}, min_trust=0.4)
    assert sorted(index.ids()) == sorted([snos[1].sno_id, snos[2].sno_id])
    snos[2].trust_score = 0.1  # re-scored below the reference threshold: it must leave the index
    store.put(snos[2])
    sync_from_store(index, store, seq, statuses={"active"}, min_trust=0.4)
    assert index.ids() == [snos[1].sno_id]


def test_the_index_settings_reach_a_built_and_a_loaded_index(tmp_path: Path) -> None:
    """``index.ef_search``, ``index.ef_construction`` and ``index.rebuild_ratio`` are applied both
    when the runtime builds the reference index and when it loads the saved one."""
    import faiss

    from cns.config.settings import CNSConfig
    from cns.services.runtime import build_runtime
    from cns.testing.fakes import HashEmbedder, RuleNLI

    config = CNSConfig(
        data_dir=tmp_path / "data",
        embedding_dim=8,
        index={"kind": "hnsw", "hnsw_m": 8, "ef_search": 17, "ef_construction": 23, "rebuild_ratio": 0.5},
    )
    path = config.data_dir / "index" / "reference.faiss"
    for attempt in ("built", "loaded"):
        assert path.is_file() == (attempt == "loaded")
        with build_runtime(config, "cli", embedder=HashEmbedder(8), nli=RuleNLI()) as runtime:
            index = runtime.reference.index
            assert (index.kind.value, index.hnsw_m) == ("hnsw", 8), attempt
            assert (index.ef_search, index.ef_construction, index.rebuild_ratio) == (17, 23, 0.5), attempt
            assert faiss.downcast_index(index.faiss_index.index).hnsw.efConstruction == 23, attempt
