"""Chirality: how strongly two trusted narratives *oppose* each other.

The original formula is ``CScore = (1 − cos(H_a, H_b)) · T_a · T_b`` (halved to land in [0, 1]).
Cosine distance measures a change of *topic*, not of *stance*: "coffee improves productivity"
and "coffee harms productivity" are close in embedding space
(docs/design-notes.md#opposition-not-distance). CNS therefore defaults to a stance-based opposition from an NLI model::

    opposition(a, b) = max(p_contra(a → b), p_contra(b → a))
    chirality(a, b)  = opposition(a, b) · T_a · T_b

``chirality.method`` selects ``narrative`` (default: hypothesis, claims and shared evidence of the
two SNOs, :mod:`cns.metrics.narrative`), ``nli`` (the two hypotheses only, the formula above),
``embedding`` (the original ``1 − cos``, kept for logging and comparison) or ``hybrid``
(``w · nli + (1 − w) · embedding``). Text pairs have no claims or evidence, so for
:func:`opposition_scores` ``narrative`` is the sentence-level ``nli`` formula.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from cns.config.settings import ChiralityConfig, ChiralityMethod
from cns.errors import ConfigError
from cns.ports import CONTRADICTION, Embedder, NLIModel

if TYPE_CHECKING:
    from cns.core.sno import StructuredNarrativeObject

Array = NDArray[np.float64]


def _unit_rows(x: ArrayLike) -> Array:
    arr = np.atleast_2d(np.asarray(x, dtype=np.float64))
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    unit: Array = np.divide(arr, norms, out=np.zeros_like(arr), where=norms > 0)
    return unit


def blueprint_chirality_batch(
    h_a: ArrayLike, h_b: ArrayLike, t_a: ArrayLike, t_b: ArrayLike, *, halve: bool = True
) -> Array:
    """Row-wise ``(1 − cos) [/2] · T_a · T_b`` for ``(n, d)`` embeddings and ``(n,)`` trusts."""
    cos = np.sum(_unit_rows(h_a) * _unit_rows(h_b), axis=1)
    distance = 1.0 - np.clip(cos, -1.0, 1.0)
    if halve:
        distance = distance / 2.0
    result: Array = distance * np.asarray(t_a, dtype=np.float64) * np.asarray(t_b, dtype=np.float64)
    return result


def blueprint_chirality(
    sno_a: StructuredNarrativeObject, sno_b: StructuredNarrativeObject, *, halve: bool = True
) -> float:
    """The original ``(1 − cos) · T_a · T_b`` chirality of two SNOs; 0 when an embedding or a trust
    score is missing."""
    if (
        sno_a.hypothesis_embedding is None
        or sno_b.hypothesis_embedding is None
        or sno_a.trust_score is None
        or sno_b.trust_score is None
    ):
        return 0.0
    return float(
        blueprint_chirality_batch(
            sno_a.hypothesis_embedding,
            sno_b.hypothesis_embedding,
            [sno_a.trust_score],
            [sno_b.trust_score],
            halve=halve,
        )[0]
    )


def opposition_from_probs(probs_ab: ArrayLike, probs_ba: ArrayLike) -> Array:
    """``max(p_contra(a→b), p_contra(b→a))`` from two ``(n, 3)`` NLI probability arrays."""
    ab = np.atleast_2d(np.asarray(probs_ab, dtype=np.float64))
    ba = np.atleast_2d(np.asarray(probs_ba, dtype=np.float64))
    result: Array = np.clip(np.maximum(ab[:, CONTRADICTION], ba[:, CONTRADICTION]), 0.0, 1.0)
    return result


def _nli_opposition(pairs: Sequence[tuple[str, str]], nli: NLIModel) -> Array:
    both = list(pairs) + [(b, a) for a, b in pairs]
    probs = nli.predict(both)
    n = len(pairs)
    return opposition_from_probs(probs[:n], probs[n:])


def _embedding_opposition(pairs: Sequence[tuple[str, str]], embedder: Embedder, halve: bool) -> Array:
    texts = sorted({t for pair in pairs for t in pair})
    vectors = embedder.encode(texts)
    row = {t: i for i, t in enumerate(texts)}
    a = vectors[[row[p[0]] for p in pairs]]
    b = vectors[[row[p[1]] for p in pairs]]
    ones = np.ones(len(pairs))
    return blueprint_chirality_batch(a, b, ones, ones, halve=halve)


def opposition_scores(
    pairs: Sequence[tuple[str, str]],
    *,
    nli: NLIModel | None = None,
    embedder: Embedder | None = None,
    config: ChiralityConfig | None = None,
    method: ChiralityMethod | str | None = None,
) -> Array:
    """Opposition in [0, 1] for each ``(text_a, text_b)``, symmetric in a and b.

    ``method`` (default: ``config.method``) decides which model is needed: ``nli`` and
    ``narrative`` need ``nli`` (for two bare texts both are the sentence formula), ``embedding``
    needs ``embedder``, ``hybrid`` needs both.
    """
    config = config or ChiralityConfig()
    chosen = ChiralityMethod(method) if method is not None else config.method
    if chosen is ChiralityMethod.NARRATIVE:
        chosen = ChiralityMethod.NLI
    if not pairs:
        return np.zeros(0, dtype=np.float64)
    if chosen in (ChiralityMethod.NLI, ChiralityMethod.HYBRID) and nli is None:
        raise ConfigError.for_key("chirality.method", f"method '{chosen.value}' needs an NLI model")
    if chosen in (ChiralityMethod.EMBEDDING, ChiralityMethod.HYBRID) and embedder is None:
        raise ConfigError.for_key("chirality.method", f"method '{chosen.value}' needs an embedder")
    if chosen is ChiralityMethod.NLI:
        assert nli is not None
        return _nli_opposition(pairs, nli)
    if chosen is ChiralityMethod.EMBEDDING:
        assert embedder is not None
        return _embedding_opposition(pairs, embedder, config.halve_cosine_distance)
    assert nli is not None and embedder is not None
    w = config.hybrid_nli_weight
    result: Array = w * _nli_opposition(pairs, nli) + (1 - w) * _embedding_opposition(
        pairs, embedder, config.halve_cosine_distance
    )
    return result


def chirality_batch(opposition: ArrayLike, t_a: ArrayLike, t_b: ArrayLike) -> Array:
    """``opposition · T_a · T_b`` element-wise."""
    result: Array = (
        np.asarray(opposition, dtype=np.float64)
        * np.asarray(t_a, dtype=np.float64)
        * np.asarray(t_b, dtype=np.float64)
    )
    return result


def chirality_score(
    sno_a: StructuredNarrativeObject,
    sno_b: StructuredNarrativeObject,
    *,
    nli: NLIModel | None = None,
    embedder: Embedder | None = None,
    config: ChiralityConfig | None = None,
    method: ChiralityMethod | str | None = None,
) -> float:
    """Chirality of two evaluated SNOs by the configured method; 0 if a trust score is missing.

    The ``embedding`` method uses the stored hypothesis embeddings (no model call), exactly as the
    original formula; the ``nli`` and ``hybrid`` methods compare the hypothesis texts; ``narrative``
    compares the whole narratives (:func:`cns.metrics.narrative.narrative_opposition`).
    """
    config = config or ChiralityConfig()
    chosen = ChiralityMethod(method) if method is not None else config.method
    if sno_a.trust_score is None or sno_b.trust_score is None:
        return 0.0
    if chosen is ChiralityMethod.EMBEDDING:
        return blueprint_chirality(sno_a, sno_b, halve=config.halve_cosine_distance)
    if chosen is ChiralityMethod.NARRATIVE:
        if nli is None:
            raise ConfigError.for_key("chirality.method", "method 'narrative' needs an NLI model")
        from cns.metrics.narrative import narrative_opposition

        scores = narrative_opposition([(sno_a, sno_b)], nli=nli, embedder=embedder, config=config).scores
        return float(chirality_batch(scores, [sno_a.trust_score], [sno_b.trust_score])[0])
    opposition = opposition_scores(
        [(sno_a.central_hypothesis, sno_b.central_hypothesis)],
        nli=nli,
        embedder=embedder,
        config=config,
        method=chosen,
    )
    return float(chirality_batch(opposition, [sno_a.trust_score], [sno_b.trust_score])[0])
