from __future__ import annotations

import numpy as np
import pytest

from cns.errors import EmbeddingDimensionError, VectorIndexError
from cns.index.memory import ExactVectorIndex


def vectors(n: int, d: int, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_search_matches_brute_force_order() -> None:
    data = vectors(50, 8)
    index = ExactVectorIndex(8)
    index.add([f"id{i}" for i in range(50)], data)
    queries = vectors(3, 8, seed=1)
    results = index.search(queries, 5)
    for q, row in zip(queries, results, strict=True):
        expected = np.argsort(-(data @ q))[:5]
        assert [r[0] for r in row] == [f"id{i}" for i in expected]
        assert row[0][1] == pytest.approx(float(data[expected[0]] @ q), rel=1e-5)


def test_add_is_idempotent_and_remove_keeps_others() -> None:
    index = ExactVectorIndex(4)
    data = vectors(4, 4)
    index.add(["a", "b", "c", "d"], data)
    index.add(["b"], data[:1])  # replace b's vector
    assert len(index) == 4
    assert np.allclose(index.get("b"), data[0])
    assert index.remove(["a", "zzz"]) == 1
    assert sorted(index.ids()) == ["b", "c", "d"]
    assert np.allclose(index.get("d"), data[3])
    assert index.search(data[3:4], 1)[0][0][0] == "d"


def test_errors() -> None:
    index = ExactVectorIndex(4)
    with pytest.raises(EmbeddingDimensionError):
        index.add(["a"], vectors(1, 3))
    with pytest.raises(VectorIndexError):
        index.add(["a", "a"], vectors(2, 4))
    assert index.search(vectors(1, 4), 3) == [[]]
