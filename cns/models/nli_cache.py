"""A persistent NLI cache keyed by (model, version, sha256 of premise and hypothesis).

NLI dominates the cost of CNS (grounding is |V|·k pairs per SNO, chirality and conflict points
add more). Judgements are pure functions of the two texts and the model, so they are cached in a
SQLite file under ``data_dir``; a re-run over an unchanged corpus then asks the model nothing.
The wrapped model is built lazily, on the first cache miss, so a fully cached run never loads
torch weights at all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from cns.core.ids import sha256_hex
from cns.models.blob_cache import BlobCache
from cns.models.sentence_vectors import SentenceVectors, accepts_sentence_vectors
from cns.ports import FloatArray, NLIModel


def pair_digest(premise: str, hypothesis: str) -> str:
    return sha256_hex(sha256_hex(premise) + sha256_hex(hypothesis))


class CachedNLI:
    """Wraps an NLI model built on demand by ``factory``; ``name``/``version`` identify its outputs.

    ``sentence_vectors`` are passed on to the model for the pairs that miss, when it takes them.
    """

    accepts_sentence_vectors = True

    def __init__(self, factory: Callable[[], NLIModel], *, name: str, version: str, path: Path) -> None:
        self._factory = factory
        self._inner: NLIModel | None = None
        self._name = name
        self._version = version
        self._cache = BlobCache(path, "nli_probabilities")
        self.hits = 0
        self.misses = 0

    @property
    def name(self) -> str:
        return self._name

    @property
    def version(self) -> str:
        return self._version

    @property
    def inner(self) -> NLIModel:
        """The real model (loaded now if it was not yet)."""
        if self._inner is None:
            self._inner = self._factory()
        return self._inner

    def predict(
        self, pairs: Sequence[tuple[str, str]], *, sentence_vectors: SentenceVectors | None = None
    ) -> FloatArray:
        if not pairs:
            return np.zeros((0, 3), dtype=np.float32)
        model = f"{self._name}@{self._version}"
        digests = [pair_digest(p, h) for p, h in pairs]
        cached = self._cache.get_many(model, digests)
        missing: dict[str, tuple[str, str]] = {}
        for digest, pair in zip(digests, pairs, strict=True):
            if digest not in cached:
                missing.setdefault(digest, pair)
        if missing:
            order = sorted(missing)
            todo = [missing[d] for d in order]
            inner = self.inner
            if sentence_vectors is not None and accepts_sentence_vectors(inner):
                raw = inner.predict(todo, sentence_vectors=sentence_vectors)  # type: ignore[call-arg]
            else:
                raw = inner.predict(todo)
            probs = np.asarray(raw, dtype=np.float32)
            fresh = list(zip(order, probs, strict=True))
            self._cache.put_many(model, fresh)
            cached.update(fresh)
        self.misses += len(missing)
        self.hits += len(pairs) - len(missing)
        return np.stack([cached[d] for d in digests]).astype(np.float32)

    def close(self) -> None:
        self._cache.close()
