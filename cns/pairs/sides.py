"""Side consistency: opposition is a two-sided relation, so opposed pairs must cut the population in two.

A pair score alone cannot tell "A and B disagree" from "A and B argue the same side with different
facts" well enough: the NLI model sees two documents of one side that stress different points as
partly contradictory. Several documents on one question carry more information than any one pair:
if A opposes B and A opposes C, then B and C are most likely allies, even when their own pair
scores high. This module uses that structure.

Every judged pair ``(i, j)`` with opposition ``o`` becomes an edge of weight ``o − θ_O``
(``θ_O`` = ``synthesis_thresholds.opposition``): positive when the pair looks opposed, negative
when it looks agreeing or unrelated. Each connected component of judged pairs is split into two
sides so that the total weight of the edges *between* the sides is largest (a maximum cut of a
signed graph, i.e. two-way correlation clustering). A reported pair must have its two narratives
on different sides; pairs on one side are dropped and counted, so the report can say why.

Components of up to :data:`EXACT_LIMIT` narratives are solved exactly (every assignment); larger
ones by deterministic local search (single moves that raise the cut, from a greedy start and from
"one side"), which is a local optimum, never below zero, and linear in the edges per pass.
A question with three or more positions is forced into two camps; pairs between two positions
that land in one camp are then missed, never invented.

Only narratives that *take a side* vote (:func:`side_edges`): a narrative that opposes none of
the narratives it was judged against (an overview, a summary, a text that argues neither way) is
left out. Its low oppositions say "I do not disagree with A" and "I do not disagree with B", which
is no evidence that A and B agree — but as negative edges each such narrative paid for every cut
between A and B, so a few of them outvoted a clear opposition. Between two narratives that do take
sides a low opposition still pulls them together.

Once the voters are split, each narrative that took no side is placed beside the one it opposes
least when it clearly leans one way (:func:`place_abstainers`), so its pair with an ally is dropped
like any same-side pair instead of passing unchecked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import networkx as nx

EXACT_LIMIT = 14
#: a narrative that takes no side is placed only when one side cuts its edges by at least this
#: much more (opposition units): closer than that, which side it leans to is noise
PLACEMENT_MARGIN = 0.05
_MAX_PASSES = 50

Edge = tuple[int, int, float]  # (row a, row b, signed weight)


def _components(edges: Iterable[Edge]) -> list[list[int]]:
    """The connected groups of the rows the edges link, each sorted, ordered by their first row."""
    graph: nx.Graph[int] = nx.Graph()
    graph.add_edges_from((a, b) for a, b, _ in edges)
    return sorted(sorted(nodes) for nodes in nx.connected_components(graph))


def _cut_value(side: dict[int, int], edges: list[Edge]) -> float:
    return sum(w for a, b, w in edges if side[a] != side[b])


def _exact(nodes: list[int], edges: list[Edge]) -> dict[int, int]:
    """Best of the 2^(n−1) assignments (the last node fixed on side 0); ties keep the first found."""
    best: dict[int, int] = dict.fromkeys(nodes, 0)
    best_value = _cut_value(best, edges)
    index = {n: k for k, n in enumerate(nodes)}
    for mask in range(1, 1 << (len(nodes) - 1)):
        side = {n: (mask >> index[n]) & 1 if index[n] < len(nodes) - 1 else 0 for n in nodes}
        value = _cut_value(side, edges)
        if value > best_value + 1e-12:
            best, best_value = side, value
    return best


def _improve(side: dict[int, int], nodes: list[int], adjacency: dict[int, list[tuple[int, float]]]) -> None:
    """Single moves while any raises the cut (each move raises it, so this terminates)."""
    for _ in range(_MAX_PASSES):
        moved = False
        for node in nodes:
            # moving `node` flips which of its edges are cut: gain = Σ same-side w − Σ other-side w
            gain = sum(wt if side[nb] == side[node] else -wt for nb, wt in adjacency[node])
            if gain > 1e-12:
                side[node] = 1 - side[node]
                moved = True
        if not moved:
            return


def _local_search(nodes: list[int], edges: list[Edge]) -> dict[int, int]:
    """Best of two refined starts: greedy (strongest opposition first) and everyone on one side.

    The second start guarantees the result never cuts less than nothing (a negative cut would
    separate narratives that the judged pairs say agree).
    """
    adjacency: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for a, b, w in edges:
        adjacency[a].append((b, w))
        adjacency[b].append((a, w))
    greedy: dict[int, int] = {}

    def place(node: int) -> None:
        # cut weight gained on each side against the neighbours placed so far
        towards = [0.0, 0.0]
        for nb, wt in adjacency[node]:
            if nb in greedy:
                towards[1 - greedy[nb]] += wt
        greedy[node] = 0 if towards[0] >= towards[1] else 1

    for a, b, _w in sorted(edges, key=lambda e: (-e[2], e[0], e[1])):
        for node in (a, b):
            if node not in greedy:
                place(node)
    starts = [greedy, dict.fromkeys(nodes, 0)]
    for side in starts:
        _improve(side, nodes, adjacency)
    return max(starts, key=lambda side: _cut_value(side, edges))


def side_edges(judged: Iterable[tuple[int, int, float, float]], neutral: float) -> list[Edge]:
    """Signed edges ``(a, b, (o − neutral) · r)`` of the judged pairs ``(a, b, o, r)`` between two
    narratives that take a side: each opposes at least one narrative on a question (``o ≥ neutral``
    with ``r > 0``). Pairs about different questions (``r = 0``) say nothing about sides."""
    relevant = [(a, b, o, r) for a, b, o, r in judged if r > 0]
    takers = {x for a, b, o, _ in relevant if o >= neutral for x in (a, b)}
    return [(a, b, w) for a, b, w in signed_edges(relevant, neutral) if a in takers and b in takers]


def signed_edges(judged: Iterable[tuple[int, int, float, float]], neutral: float) -> list[Edge]:
    """Signed edges ``(a, b, (o − neutral) · r)`` of every judged pair about one question (``r > 0``)."""
    return [(a, b, (o - neutral) * r) for a, b, o, r in judged if r > 0]


def place_abstainers(sides: dict[int, tuple[int, int]], edges: Iterable[Edge]) -> dict[int, tuple[int, int]]:
    """``sides`` plus a side for each narrative that took none but was judged against some that did.

    Why: a narrative that opposes nobody does not vote (see the module docstring), but its pairs
    are still reported when their raw score qualifies — so the half of a document that contradicts
    its sibling half more than anyone else, yet less than the threshold once its own contradictions
    are discounted, was paired with that sibling unchecked. Placed afterwards, on the side that
    cuts its judged edges most (it sits with the narrative it opposes least), it never moves the
    voters, and a pair with its closest ally is dropped like any same-side pair. The placement uses
    only the question (component) where its edges weigh most; when the two sides differ by less than
    :data:`PLACEMENT_MARGIN` it stays unplaced.
    """
    towards: dict[int, dict[int, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0.0, 0.0, 0.0]))
    for a, b, w in edges:
        for node, other in ((a, b), (b, a)):
            if node in sides or other not in sides:
                continue
            cid, other_side = sides[other]
            gains = towards[node][cid]
            gains[1 - other_side] += w  # on side 1 − other_side, this edge is cut
            gains[2] += abs(w)
    placed = dict(sides)
    for node in sorted(towards):
        cid, gains = max(towards[node].items(), key=lambda item: (item[1][2], -item[0]))
        if abs(gains[0] - gains[1]) >= PLACEMENT_MARGIN:
            placed[node] = (cid, 0 if gains[0] > gains[1] else 1)
    return placed


def assign_sides(edges: Iterable[Edge]) -> dict[int, tuple[int, int]]:
    """Row → (component id, side 0/1) for every row that appears in an edge."""
    all_edges = list(edges)
    by_node: dict[int, list[Edge]] = defaultdict(list)
    for edge in all_edges:
        by_node[edge[0]].append(edge)
    out: dict[int, tuple[int, int]] = {}
    for cid, nodes in enumerate(_components(all_edges)):
        members = set(nodes)
        mine = [e for n in nodes for e in by_node[n] if e[1] in members]
        side = _exact(nodes, mine) if len(nodes) <= EXACT_LIMIT else _local_search(nodes, mine)
        out.update({n: (cid, side[n]) for n in nodes})
    return out


def same_side(sides: dict[int, tuple[int, int]], a: int, b: int) -> bool:
    """Whether rows ``a`` and ``b`` were put on one side of one question."""
    sa, sb = sides.get(a), sides.get(b)
    return sa is not None and sa == sb
