"""Contract-test mixins shipped with the package (engineering practice 3).

Every implementation of a port runs the same behavioural suite: subclass the mixin in a test
module, name the subclass ``Test…`` and provide one fixture::

    class TestMyStore(SNOStoreContract):
        @pytest.fixture
        def store(self, tmp_path):
            return MyStore(tmp_path)

    class TestMyIndex(VectorIndexContract):
        @pytest.fixture
        def index_factory(self):
            return lambda dimension: MyIndex(dimension)

The mixins themselves are not collected (their names do not start with ``Test``). They import
pytest, so import this module only from tests.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from numpy.typing import NDArray

from cns.core.evidence import EvidenceItem
from cns.core.sno import SNOStatus, StructuredNarrativeObject
from cns.errors import EmbeddingDimensionError, SNONotFoundError, VectorIndexError
from cns.ports import SNOStore, VectorIndex

IndexFactory = Callable[[int], VectorIndex]


def unit_vectors(n: int, dimension: int, seed: int = 0) -> NDArray[np.float32]:
    """``n`` random unit vectors (float32), reproducible from ``seed``."""
    data = np.random.default_rng(seed).standard_normal((n, dimension)).astype(np.float32)
    unit: NDArray[np.float32] = data / np.linalg.norm(data, axis=1, keepdims=True)
    return unit


def sample_sno(
    hypothesis: str, *, trust: float | None = None, status: str = "candidate", seed: int = 0
) -> StructuredNarrativeObject:
    """An SNO with two claims, two evidence items and an 8-d embedding."""
    sno = StructuredNarrativeObject(hypothesis, trust_score=trust, status=status)
    first = sno.add_claim(f"{hypothesis} — first premise")
    second = sno.add_claim(f"{hypothesis} — second premise")
    sno.add_reasoning_edge(first, "root", "supports", 0.9)
    sno.add_reasoning_edge(second, first, "explains", 0.5)
    sno.add_evidence(EvidenceItem(f"finding about {hypothesis}", source_id="doi:10.1000/shared"))
    sno.add_evidence(EvidenceItem(f"another finding about {hypothesis}", source_id=f"src-{seed}"))
    sno.set_embedding(unit_vectors(1, 8, seed)[0])
    return sno


class SNOStoreContract:
    """Behaviour every :class:`cns.ports.SNOStore` must have; needs a ``store`` fixture."""

    def test_is_an_sno_store(self, store: SNOStore) -> None:
        assert isinstance(store, SNOStore)

    def test_put_then_get_round_trips_content(self, store: SNOStore) -> None:
        sno = sample_sno("Continents drift", trust=0.7)
        store.put(sno)
        got = store.get(sno.sno_id)
        assert got.sno_id == sno.sno_id
        assert got.central_hypothesis == "Continents drift"
        assert got.content_hash() == sno.content_hash()
        assert got.evidence_keys == sno.evidence_keys
        assert got.trust_score == pytest.approx(0.7)
        assert got.hypothesis_embedding is not None and sno.hypothesis_embedding is not None
        assert np.allclose(got.hypothesis_embedding, sno.hypothesis_embedding)
        assert got.reasoning_graph.number_of_edges() == 2

    def test_missing_id_raises_not_found(self, store: SNOStore) -> None:
        with pytest.raises(SNONotFoundError):
            store.get("does-not-exist")
        with pytest.raises(KeyError):
            store.get("does-not-exist")

    def test_put_is_an_upsert(self, store: SNOStore) -> None:
        sno = sample_sno("Light is a wave", trust=0.2)
        store.put(sno)
        sno.trust_score = 0.9
        sno.status = SNOStatus.ACTIVE
        store.put(sno)
        assert len(store) == 1
        got = store.get(sno.sno_id)
        assert got.trust_score == pytest.approx(0.9)
        assert got.status == SNOStatus.ACTIVE

    def test_stored_copy_is_not_aliased(self, store: SNOStore) -> None:
        sno = sample_sno("The universe is expanding", trust=0.5)
        store.put(sno)
        sno.trust_score = 0.1
        sno.add_claim("an extra claim added after put")
        got = store.get(sno.sno_id)
        assert got.trust_score == pytest.approx(0.5)
        assert got.reasoning_graph.number_of_nodes() == 3

    def test_delete(self, store: SNOStore) -> None:
        keep, drop = sample_sno("keep me", seed=1), sample_sno("drop me", seed=2)
        store.put(keep)
        store.put(drop)
        assert store.delete(drop.sno_id) is True
        assert store.delete(drop.sno_id) is False
        assert len(store) == 1
        with pytest.raises(SNONotFoundError):
            store.get(drop.sno_id)
        assert store.get(keep.sno_id).central_hypothesis == "keep me"

    def test_list_filters_by_status_and_trust(self, store: SNOStore) -> None:
        snos = [
            sample_sno("a", trust=0.9, status="active", seed=1),
            sample_sno("b", trust=0.4, status="active", seed=2),
            sample_sno("c", trust=0.95, status="archived", seed=3),
            sample_sno("d", trust=None, status="candidate", seed=4),
        ]
        for sno in snos:
            store.put(sno)
        assert len(store) == 4

        def hyps(found: list[StructuredNarrativeObject]) -> set[str]:
            return {s.central_hypothesis for s in found}

        assert hyps(store.list()) == {"a", "b", "c", "d"}
        assert hyps(store.list(status="active")) == {"a", "b"}
        assert hyps(store.list(min_trust=0.5)) == {"a", "c"}
        assert hyps(store.list(status="active", min_trust=0.5)) == {"a"}
        assert hyps(store.list(status="archived", min_trust=0.99)) == set()


class VectorIndexContract:
    """Behaviour every :class:`cns.ports.VectorIndex` must have; needs an ``index_factory`` fixture.

    Set ``approximate = True`` on the subclass for indexes that may miss true neighbours: the
    brute-force comparisons then require recall instead of identical rankings.
    """

    approximate = False

    def test_is_a_vector_index(self, index_factory: IndexFactory) -> None:
        index = index_factory(8)
        assert isinstance(index, VectorIndex)
        assert index.dimension == 8
        assert len(index) == 0

    def test_empty_and_degenerate_searches(self, index_factory: IndexFactory) -> None:
        index = index_factory(4)
        assert index.search(unit_vectors(2, 4), 3) == [[], []]
        index.add(["a"], unit_vectors(1, 4))
        assert index.search(unit_vectors(1, 4), 0) == [[]]
        assert [hit[0] for hit in index.search(unit_vectors(1, 4), 10)[0]] == ["a"]

    def test_search_matches_brute_force(self, index_factory: IndexFactory) -> None:
        data, queries = unit_vectors(300, 16, seed=1), unit_vectors(20, 16, seed=2)
        index = index_factory(16)
        index.add([f"id{i}" for i in range(300)], data)
        results = index.search(queries, 10)
        assert len(results) == 20
        hits = 0
        for query, row in zip(queries, results, strict=True):
            truth = [f"id{i}" for i in np.argsort(-(data @ query))[:10]]
            assert len(row) == 10
            scores = [score for _, score in row]
            assert scores == sorted(scores, reverse=True)
            for item_id, score in row:
                assert score == pytest.approx(float(data[int(item_id[2:])] @ query), abs=1e-5)
            if not self.approximate:
                assert [item_id for item_id, _ in row] == truth
            hits += len({item_id for item_id, _ in row} & set(truth))
        assert hits / (20 * 10) >= (0.9 if self.approximate else 1.0)

    def test_self_match_scores_one(self, index_factory: IndexFactory) -> None:
        data = unit_vectors(50, 8, seed=3)
        index = index_factory(8)
        index.add([f"v{i}" for i in range(50)], data)
        for i in (0, 17, 49):
            best_id, best_score = index.search(data[i : i + 1], 1)[0][0]
            assert best_id == f"v{i}"
            assert best_score == pytest.approx(1.0, abs=1e-5)

    def test_re_adding_an_id_replaces_its_vector(self, index_factory: IndexFactory) -> None:
        data = unit_vectors(4, 8, seed=4)
        index = index_factory(8)
        index.add(["a", "b", "c"], data[:3])
        index.add(["b"], data[3:4])
        assert len(index) == 3
        assert sorted(index.ids()) == ["a", "b", "c"]
        assert index.search(data[3:4], 1)[0][0][0] == "b"
        row = index.search(data[1:2], 3)[0]
        assert next(score for item_id, score in row if item_id == "b") == pytest.approx(
            float(data[1] @ data[3]), abs=1e-5
        )

    def test_remove_counts_only_present_ids(self, index_factory: IndexFactory) -> None:
        data = unit_vectors(5, 8, seed=5)
        index = index_factory(8)
        index.add(["a", "b", "c", "d", "e"], data)
        assert index.remove(["a", "zzz", "c", "a"]) == 2
        assert index.remove([]) == 0
        assert sorted(index.ids()) == ["b", "d", "e"]
        found = {item_id for item_id, _ in index.search(data, 5)[0]}
        assert found == {"b", "d", "e"}
        assert index.search(data[3:4], 1)[0][0][0] == "d"

    def test_interleaved_operations_match_a_model(self, index_factory: IndexFactory) -> None:
        rng = np.random.default_rng(6)
        index = index_factory(8)
        model: dict[str, NDArray[np.float32]] = {}
        for step in range(60):
            if model and rng.random() < 0.35:
                victims = list(rng.choice(sorted(model), size=min(3, len(model)), replace=False))
                assert index.remove(victims) == len(victims)
                for victim in victims:
                    del model[victim]
            else:
                ids = [f"x{int(i)}" for i in rng.choice(40, size=3, replace=False)]
                vectors = unit_vectors(3, 8, seed=100 + step)
                index.add(ids, vectors)
                model.update(zip(ids, vectors, strict=True))
        assert sorted(index.ids()) == sorted(model)
        assert len(index) == len(model)
        names = sorted(model)
        matrix = np.vstack([model[n] for n in names])
        for query in unit_vectors(5, 8, seed=7):
            truth = [names[i] for i in np.argsort(-(matrix @ query))[:5]]
            got = [item_id for item_id, _ in index.search(query[None, :], 5)[0]]
            assert got == truth

    def test_invalid_input_raises(self, index_factory: IndexFactory) -> None:
        index = index_factory(4)
        with pytest.raises(EmbeddingDimensionError):
            index.add(["a"], unit_vectors(1, 3))
        with pytest.raises(EmbeddingDimensionError):
            index.search(unit_vectors(1, 5), 1)
        with pytest.raises(VectorIndexError):
            index.add(["a", "b"], unit_vectors(1, 4))
        with pytest.raises(VectorIndexError):
            index.add(["a", "a"], unit_vectors(2, 4))
        assert len(index) == 0
