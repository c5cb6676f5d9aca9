"""Share the cap on reported pairs across questions: every question's best pair before any second.

``population.max_pairs`` bounds how many pairs a search reports. Applied to one global ranking,
a question with many narratives fills the list and another question's only pair falls off the
end. The typical crowd is a question with overviews, summaries or texts that list arguments of
both sides beside its two sides: with the shipped models such a text looks opposed to each side
and to the other overviews (it holds arguments of both sides, and the per-sentence judgement
cannot see that half of them agree), so one question yields many pairs with high scores. On the
debate DEV corpus with three overviews per debate, pairs of an overview outranked three true
pairs of other debates, which the cap dropped (docs/opposition.md).

The pairs that share evidence come first and are cut best potential first (``pinned``), which
keeps the best-first scoring exact; they count in their questions' rounds, and the topic-neighbour
pairs (no shared evidence) share the slots left. A question is a connected group of the pairs
(narratives linked by them).
The pairs keep their ranking within their question; the cap takes each question's first pair
in the global ranking order, then each question's second, and so on. Below the cap nothing
changes, and the kept pairs are returned in their original order, so the report still reads
best first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import networkx as nx

from cns.pairs.types import ChiralPair

P = TypeVar("P", bound=ChiralPair)


def question_of(pairs: Sequence[ChiralPair]) -> list[int]:
    """For each pair, the id of its question: the connected group of narratives the pairs link.

    Ids are numbered in the order the questions first appear in ``pairs``.
    """
    graph: nx.Graph[str] = nx.Graph()
    graph.add_edges_from((p.sno_a.sno_id, p.sno_b.sno_id) for p in pairs)
    component = {node: k for k, nodes in enumerate(nx.connected_components(graph)) for node in nodes}
    ids: dict[int, int] = {}
    return [ids.setdefault(component[p.sno_a.sno_id], len(ids)) for p in pairs]


def share_cap(pairs: Sequence[P], limit: int, *, pinned: int = 0) -> list[P]:
    """At most ``limit`` of ``pairs`` (ranked best first), taken round by round across questions.

    The first ``pinned`` pairs are always taken (up to ``limit``) and count in their questions'
    rounds; of the others, round ``k`` holds each question's ``k``-th pair in the given order,
    rounds taken in turn, ties within a round by the global rank. The result keeps the given order.
    """
    pinned = min(pinned, limit)
    if len(pairs) <= limit:
        return list(pairs)
    seen: dict[int, int] = {}
    rounds = []
    for rank, q in enumerate(question_of(pairs)):
        if rank >= pinned:
            rounds.append((seen.get(q, 0), rank))
        seen[q] = seen.get(q, 0) + 1
    chosen = list(range(pinned)) + sorted(rank for _, rank in sorted(rounds)[: limit - pinned])
    return [pairs[r] for r in sorted(chosen)]
