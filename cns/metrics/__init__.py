"""Relational metrics between SNOs: chirality, opposition, entanglement, potential.

All functions are pure: they take vectors, probabilities or SNOs and return numbers. The NLI or
embedding model needed for opposition is passed in explicitly.
"""

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
