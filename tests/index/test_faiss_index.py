"""faiss-specific behaviour: parity with the exact index, HNSW recall and tombstones."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from cns.errors import ConfigError, VectorIndexError
from cns.index.faiss_index import FaissVectorIndex, IndexKind, parse_kind
from cns.index.memory import ExactVectorIndex
from cns.testing.contracts import unit_vectors


def test_flat_matches_the_exact_index_on_random_data() -> None:
    data, queries = unit_vectors(2000, 64, seed=11), unit_vectors(50, 64, seed=12)
    ids = [f"s{i}" for i in range(2000)]
    exact, flat = ExactVectorIndex(64), FaissVectorIndex(64)
    exact.add(ids, data)
    flat.add(ids, data)
    removed = ids[::7]
    assert exact.remove(removed) == flat.remove(removed) == len(removed)
    for want, got in zip(exact.search(queries, 10), flat.search(queries, 10), strict=True):
        assert [i for i, _ in got] == [i for i, _ in want]
        assert np.allclose([s for _, s in got], [s for _, s in want], atol=1e-5)


def test_hnsw_recall_at_10_on_5k_vectors() -> None:
    dimension = 384
    data, queries = unit_vectors(5000, dimension, seed=21), unit_vectors(200, dimension, seed=22)
    ids = [str(i) for i in range(5000)]
    exact, hnsw = ExactVectorIndex(dimension), FaissVectorIndex(dimension, "hnsw", hnsw_m=32)
    exact.add(ids, data)
    hnsw.add(ids, data)
    truth, found = exact.search(queries, 10), hnsw.search(queries, 10)
    recall = np.mean(
        [len({i for i, _ in a} & {i for i, _ in b}) / 10 for a, b in zip(truth, found, strict=True)]
    )
    print(f"hnsw recall@10 = {recall:.4f}")
    assert recall >= 0.95


def test_hnsw_tombstones_hide_removed_ids_and_trigger_rebuild() -> None:
    data = unit_vectors(100, 16, seed=31)
    index = FaissVectorIndex(16, "hnsw", hnsw_m=8, rebuild_ratio=0.2)
    index.add([f"v{i}" for i in range(100)], data)
    assert index.remove([f"v{i}" for i in range(10)]) == 10
    assert index.tombstones == 10 and index.faiss_index.ntotal == 100
    hits = index.search(data[:10], 5)
    assert all(not item_id.startswith("v") or int(item_id[1:]) >= 10 for row in hits for item_id, _ in row)
    assert all(len(row) == 5 for row in hits)  # over-fetching keeps k results despite tombstones
    index.remove([f"v{i}" for i in range(10, 25)])  # 25 > 0.2 * 100: rebuilt
    assert index.tombstones == 0 and index.faiss_index.ntotal == 75 == len(index)
    best_id, best_score = index.search(data[50:51], 1)[0][0]
    assert best_id == "v50" and best_score == pytest.approx(1.0, abs=1e-5)
    index.add(["v50"], data[:1])  # replacing also tombstones the old vector
    assert index.tombstones == 1
    assert np.allclose(index.get("v50"), data[0])


def test_get_and_membership() -> None:
    data = unit_vectors(3, 8)
    for kind in IndexKind:
        index = FaissVectorIndex(8, kind)
        index.add(["a", "b", "c"], data)
        assert "b" in index and "z" not in index
        assert np.allclose(index.get("c"), data[2])
        with pytest.raises(VectorIndexError, match="not in the index"):
            index.get("z")


def test_kind_parsing_and_bad_parameters() -> None:
    assert parse_kind(" HNSW ") is IndexKind.HNSW
    with pytest.raises(ConfigError, match="index.kind"):
        FaissVectorIndex(8, "ivf")
    with pytest.raises(ConfigError, match="index.hnsw_m"):
        FaissVectorIndex(8, "hnsw", hnsw_m=1)
    with pytest.raises(VectorIndexError, match="positive"):
        FaissVectorIndex(0)


def test_concurrent_adds_and_searches_stay_consistent() -> None:
    index = FaissVectorIndex(16, "hnsw", hnsw_m=8)
    errors: list[BaseException] = []

    def writer(offset: int) -> None:
        try:
            for step in range(20):
                ids = [f"w{offset}-{step}-{j}" for j in range(5)]
                index.add(ids, unit_vectors(5, 16, seed=offset * 100 + step))
                index.remove(ids[:2])
                index.search(unit_vectors(2, 16, seed=step), 3)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(index) == 4 * 20 * 3 == len(set(index.ids()))
