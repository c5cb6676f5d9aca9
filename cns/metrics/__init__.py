"""Relational metrics between SNOs: chirality, opposition, entanglement, potential.

All functions are pure: they take vectors, probabilities or SNOs and return numbers. The NLI or
embedding model needed for opposition is passed in explicitly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cns.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from cns.metrics.chirality import (
        blueprint_chirality,
        blueprint_chirality_batch,
        chirality_batch,
        chirality_score,
        opposition_from_probs,
        opposition_scores,
    )
    from cns.metrics.entanglement import entanglement_score, jaccard_from_counts, shared_evidence
    from cns.metrics.narrative import NarrativeOpposition, narrative_opposition
    from cns.metrics.potential import synthesis_potential


__all__ = [
    "NarrativeOpposition",
    "blueprint_chirality",
    "blueprint_chirality_batch",
    "chirality_batch",
    "chirality_score",
    "entanglement_score",
    "jaccard_from_counts",
    "narrative_opposition",
    "opposition_from_probs",
    "opposition_scores",
    "shared_evidence",
    "synthesis_potential",
]

_EXPORTS = {
    "blueprint_chirality": "cns.metrics.chirality",
    "blueprint_chirality_batch": "cns.metrics.chirality",
    "chirality_batch": "cns.metrics.chirality",
    "chirality_score": "cns.metrics.chirality",
    "opposition_from_probs": "cns.metrics.chirality",
    "opposition_scores": "cns.metrics.chirality",
    "entanglement_score": "cns.metrics.entanglement",
    "jaccard_from_counts": "cns.metrics.entanglement",
    "shared_evidence": "cns.metrics.entanglement",
    "NarrativeOpposition": "cns.metrics.narrative",
    "narrative_opposition": "cns.metrics.narrative",
    "synthesis_potential": "cns.metrics.potential",
}

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
