"""Exact chirality of candidate pairs by the configured method, in as few model calls as possible.

Opposition is symmetric, so identical hypothesis pairs (in either order) are scored once; all
NLI pairs of a batch, both directions, go to the model in a single ``predict``. The ``embedding``
method uses the stored hypothesis embeddings and calls no model when they are present.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from cns.config.settings import ChiralityConfig, ChiralityMethod
from cns.core.sno import StructuredNarrativeObject
from cns.errors import ConfigError
from cns.metrics import blueprint_chirality_batch, opposition_scores
from cns.ports import Embedder, NLIModel

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int32] | NDArray[np.int64]


def opposition_upper_bound(config: ChiralityConfig) -> float:
    """The largest opposition the method can return (1, or 2 for an un-halved cosine distance)."""
    embedding_max = 1.0 if config.halve_cosine_distance else 2.0
    if config.method is ChiralityMethod.NLI:
        return 1.0
    if config.method is ChiralityMethod.EMBEDDING:
        return embedding_max
    w = config.hybrid_nli_weight
    return w + (1.0 - w) * embedding_max


def _embedding_opposition(
    snos: Sequence[StructuredNarrativeObject],
    a: IntArray,
    b: IntArray,
    *,
    config: ChiralityConfig,
    embedder: Embedder | None,
) -> FloatArray:
    needed = sorted({int(i) for i in np.concatenate([a, b]) if snos[int(i)].hypothesis_embedding is None})
    vectors: dict[int, NDArray[np.float32]] = {}
    if needed:
        if embedder is None:
            raise ConfigError.for_key(
                "chirality.method", "the embedding method needs hypothesis embeddings or an embedder"
            )
        encoded = embedder.encode([snos[i].central_hypothesis for i in needed])
        vectors = {i: encoded[k] for k, i in enumerate(needed)}

    def vector(i: int) -> NDArray[np.float32]:
        stored = snos[i].hypothesis_embedding
        return vectors[i] if stored is None else stored

    def matrix(idx: IntArray) -> NDArray[np.float32]:
        return np.stack([vector(int(i)) for i in idx])

    ones = np.ones(a.shape[0])
    return blueprint_chirality_batch(matrix(a), matrix(b), ones, ones, halve=config.halve_cosine_distance)


def _nli_opposition(
    snos: Sequence[StructuredNarrativeObject], a: IntArray, b: IntArray, *, nli: NLIModel
) -> tuple[FloatArray, int]:
    keys: list[tuple[str, str]] = []
    for i, j in zip(a.tolist(), b.tolist(), strict=True):
        ha, hb = snos[i].central_hypothesis, snos[j].central_hypothesis
        keys.append((ha, hb) if ha <= hb else (hb, ha))
    unique = list(dict.fromkeys(keys))
    scores = opposition_scores(unique, nli=nli, method=ChiralityMethod.NLI)
    lookup = dict(zip(unique, scores.tolist(), strict=True))
    return np.array([lookup[k] for k in keys], dtype=np.float64), 2 * len(unique)


def candidate_opposition(
    snos: Sequence[StructuredNarrativeObject],
    a: IntArray,
    b: IntArray,
    *,
    config: ChiralityConfig,
    nli: NLIModel | None,
    embedder: Embedder | None,
) -> tuple[FloatArray, int]:
    """Opposition of rows ``a[i]``/``b[i]`` and the number of NLI pairs sent to the model."""
    if a.shape[0] == 0:
        return np.zeros(0, dtype=np.float64), 0
    method = config.method
    if method is ChiralityMethod.EMBEDDING:
        return _embedding_opposition(snos, a, b, config=config, embedder=embedder), 0
    if nli is None:
        raise ConfigError.for_key("chirality.method", f"method '{method.value}' needs an NLI model")
    stance, calls = _nli_opposition(snos, a, b, nli=nli)
    if method is ChiralityMethod.NLI:
        return stance, calls
    w = config.hybrid_nli_weight
    topic = _embedding_opposition(snos, a, b, config=config, embedder=embedder)
    return w * stance + (1.0 - w) * topic, calls


def trusts(snos: Sequence[StructuredNarrativeObject]) -> FloatArray:
    """Trust scores as an array, NaN where missing."""
    return np.array([np.nan if s.trust_score is None else s.trust_score for s in snos], dtype=np.float64)
