"""Chiral pairs: narratives that oppose each other yet share evidence (docs/opposition.md).

``find_chiral_pairs(snos_or_store, config, *, nli=None, embedder=None)`` returns the best pairs
for synthesis, each with its shared evidence keys and NLI conflict points. Candidates come from
an inverted index over canonical evidence keys (plus, for documents that share no citation, each
narrative's topic neighbours); only candidates surviving exact entanglement and trust bounds are
sent to the NLI model. ``brute_force_pairs`` is the naive all-pairs search, kept as a reference.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cns.lazy_exports import lazy_exports

if TYPE_CHECKING:
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

_EXPORTS = {
    "brute_force_pairs": "cns.pairs.brute_force",
    "conflict_points": "cns.pairs.conflicts",
    "PairSearchResult": "cns.pairs.search",
    "find_chiral_pairs": "cns.pairs.search",
    "search_chiral_pairs": "cns.pairs.search",
    "ChiralPair": "cns.pairs.types",
    "ConflictPoint": "cns.pairs.types",
    "PairSearchOptions": "cns.pairs.types",
    "PairSearchStats": "cns.pairs.types",
    "pair_key": "cns.pairs.types",
}

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
