from __future__ import annotations

from pathlib import Path

import numpy as np

from cns.config import CNSConfig
from cns.models import load_embedder
from cns.models.embedding_cache import CachedEmbedder
from cns.testing.fakes import HashEmbedder


def test_cache_returns_same_vectors_and_skips_the_model(tmp_path: Path) -> None:
    inner = HashEmbedder(16)
    cache = CachedEmbedder(inner, tmp_path / "e.sqlite3")
    texts = ["alpha", "beta", "alpha", "gamma"]
    first = cache.encode(texts)
    assert np.allclose(first, inner.encode(texts))
    calls = inner.calls
    again = cache.encode(["gamma", "alpha"])
    assert inner.calls == calls  # nothing new reached the model
    assert np.allclose(again, first[[3, 0]])
    assert cache.hits == 2 + 1 and cache.misses == 3
    cache.close()
    reopened = CachedEmbedder(HashEmbedder(16), tmp_path / "e.sqlite3")
    assert np.allclose(reopened.encode(["beta"]), first[1:2])
    assert reopened.hits == 1 and reopened.misses == 0


def test_cache_is_keyed_by_model(tmp_path: Path) -> None:
    class Other(HashEmbedder):
        version = "2"

    path = tmp_path / "e.sqlite3"
    CachedEmbedder(HashEmbedder(16), path).encode(["x"])
    other = CachedEmbedder(Other(16), path)
    other.encode(["x"])
    assert other.misses == 1


def test_default_embedder_is_cached_under_data_dir(tmp_path: Path) -> None:
    embedder = load_embedder(CNSConfig(data_dir=tmp_path))
    assert isinstance(embedder, CachedEmbedder)
    vectors = embedder.encode(["Continents drift.", "Continents drift."])
    assert vectors.shape == (2, 384) and np.allclose(vectors[0], vectors[1])
    assert (tmp_path / "cache" / "embeddings.sqlite3").is_file()
