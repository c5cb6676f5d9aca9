"""The shared VectorIndex contract, run for the reference exact index and both faiss kinds."""

from __future__ import annotations

import pytest

from cns.index.faiss_index import FaissVectorIndex
from cns.index.memory import ExactVectorIndex
from cns.testing.contracts import IndexFactory, VectorIndexContract


class TestExactIndexContract(VectorIndexContract):
    @pytest.fixture
    def index_factory(self) -> IndexFactory:
        return ExactVectorIndex


class TestFaissFlatContract(VectorIndexContract):
    @pytest.fixture
    def index_factory(self) -> IndexFactory:
        return lambda dimension: FaissVectorIndex(dimension, "flat")


class TestFaissHNSWContract(VectorIndexContract):
    approximate = True

    @pytest.fixture
    def index_factory(self) -> IndexFactory:
        return lambda dimension: FaissVectorIndex(dimension, "hnsw", hnsw_m=16)
