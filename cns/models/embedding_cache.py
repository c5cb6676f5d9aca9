"""A persistent embedding cache keyed by (model, version, sha256 of the text).

Re-embedding unchanged text then costs a SQLite lookup instead of a model forward pass, which is
what makes re-running ``cns run`` on an unchanged corpus fast. The cache is a single SQLite file
under ``data_dir`` (WAL mode, safe for several processes); vectors are stored as raw float32.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cns.core.ids import sha256_hex
from cns.models.blob_cache import BlobCache
from cns.ports import Embedder, FloatArray


class CachedEmbedder:
    """Wraps any :class:`~cns.ports.Embedder`; only texts not seen before reach the model."""

    def __init__(self, inner: Embedder, path: Path) -> None:
        self.inner = inner
        self.path = path
        self._cache = BlobCache(path, "embedding_vectors")
        self.hits = 0
        self.misses = 0

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def version(self) -> str:
        return self.inner.version

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    @property
    def encoder_identity(self) -> str | None:
        """The wrapped embedder's identity (cached vectors are that encoder's vectors)."""
        identity = getattr(self.inner, "encoder_identity", None)
        return identity if isinstance(identity, str) else None

    @property
    def max_tokens(self) -> int | None:
        max_tokens = getattr(self.inner, "max_tokens", None)
        return max_tokens if isinstance(max_tokens, int) else None

    def encode(self, texts: Sequence[str]) -> FloatArray:
        if not texts:
            return self.inner.encode(texts)
        model = f"{self.inner.name}@{self.inner.version}"
        digests = [sha256_hex(t) for t in texts]
        cached = self._cache.get_many(model, digests)
        missing = sorted({d: t for d, t in zip(digests, texts, strict=True) if d not in cached}.items())
        if missing:
            vectors = np.asarray(self.inner.encode([t for _, t in missing]), dtype=np.float32)
            fresh = [(d, v) for (d, _), v in zip(missing, vectors, strict=True)]
            self._cache.put_many(model, fresh)
            cached.update(fresh)
        self.misses += len(missing)
        self.hits += len(texts) - len(missing)
        return np.stack([cached[d] for d in digests]).astype(np.float32)

    def close(self) -> None:
        self._cache.close()
