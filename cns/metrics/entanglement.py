"""Evidential entanglement: the Jaccard index of two SNOs' evidence
(docs/design-notes.md#evidence-identity).

Evidence is compared by **canonical key** over *source* items only — citations, references and
data; an SNO's quotes of its own document ground its claims but are not sources two documents
can share (``EvidenceItem.is_source``). Keys are (normalised DOI / arXiv id / URL, else a content
hash), so two documents that cite the same paper in different spellings share evidence. The
optional quality-weighted form is ``Σ_{∩} w / Σ_{∪} w`` with each item's
``quality`` as its weight (the higher weight wins when both sides hold the key).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    from cns.core.sno import StructuredNarrativeObject


def shared_evidence(sno_a: StructuredNarrativeObject, sno_b: StructuredNarrativeObject) -> frozenset[str]:
    """Canonical source keys present in both evidence sets."""
    return sno_a.source_keys & sno_b.source_keys


def entanglement_score(
    sno_a: StructuredNarrativeObject, sno_b: StructuredNarrativeObject, *, quality_weighted: bool = False
) -> float:
    """Jaccard over canonical evidence keys in [0, 1]; 0 when both sets are empty."""
    if not quality_weighted:
        keys_a, keys_b = sno_a.source_keys, sno_b.source_keys
        union = len(keys_a | keys_b)
        return len(keys_a & keys_b) / union if union else 0.0
    weights_a = {item.key: item.quality for item in sno_a.evidence_set if item.is_source}
    weights_b = {item.key: item.quality for item in sno_b.evidence_set if item.is_source}
    union_keys = weights_a.keys() | weights_b.keys()
    total = sum(max(weights_a.get(k, 0.0), weights_b.get(k, 0.0)) for k in union_keys)
    shared = sum(max(weights_a[k], weights_b[k]) for k in weights_a.keys() & weights_b.keys())
    return shared / total if total > 0 else 0.0


def jaccard_from_counts(intersection: ArrayLike, size_a: ArrayLike, size_b: ArrayLike) -> NDArray[np.float64]:
    """Vectorised Jaccard ``|A∩B| / (|A| + |B| − |A∩B|)`` from counts (0 where the union is empty)."""
    inter = np.asarray(intersection, dtype=np.float64)
    union = np.asarray(size_a, dtype=np.float64) + np.asarray(size_b, dtype=np.float64) - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
