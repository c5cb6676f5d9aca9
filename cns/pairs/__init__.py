"""Chiral pairs: narratives that oppose each other yet share evidence (spec §4, §13 G1/G2).

``find_chiral_pairs(snos_or_store, config, *, nli=None, embedder=None)`` returns the best pairs
for synthesis, each with its shared evidence keys and NLI conflict points. Candidates come from
an inverted index over canonical evidence keys (not from embedding neighbours, which are the
*least* chiral hypotheses); only candidates surviving exact entanglement and trust bounds are
sent to the NLI model. ``brute_force_pairs`` is the guide's all-pairs reference.
"""

from cns.pairs.brute_force import brute_force_pairs
from cns.pairs.conflicts import conflict_points
from cns.pairs.search import PairSearchResult, find_chiral_pairs, search_chiral_pairs
from cns.pairs.types import ChiralPair, ConflictPoint, PairSearchOptions, PairSearchStats, pair_key

__all__ = [
    "ChiralPair",
    "ConflictPoint",
    "PairSearchOptions",
    "PairSearchResult",
    "PairSearchStats",
    "brute_force_pairs",
    "conflict_points",
    "find_chiral_pairs",
    "pair_key",
    "search_chiral_pairs",
]
