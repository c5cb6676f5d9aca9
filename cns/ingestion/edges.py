"""Typed reasoning edges between extracted claims, premise → conclusion, always acyclic.

Order of evidence for an edge, strongest first:

1. a **discourse connective** at the start of a claim sentence links it to the nearest preceding
   node (claim or hypothesis) within a few sentences: "because/for example" → it *supports* that
   node; "therefore/thus" → that node *implies* it; "however/in contrast" → it *weakens* or
   *contradicts* it; "this explains" → *explains*; "in general" → *generalizes*;
2. **NLI** between each claim and the hypothesis: entailment → *supports* the root,
   contradiction → *weakens*/*contradicts* it; and between consecutive claims (contradiction) —
   opposition only under the stricter :class:`NLIPolicy`;
3. a claim that still has no path to the root gets a weak *supports* edge to it (it was chosen as
   salient argument in a document whose thesis is the root), so no claim is left orphaned.

An edge that would close a cycle is skipped and counted, never raised.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import networkx as nx
import numpy as np
from numpy.typing import NDArray

from cns.config.extraction import EdgeNLIConfig
from cns.core.graph import ROOT_ID, RelationType
from cns.ingestion.model import ExtractedEdge
from cns.ports import CONTRADICTION, ENTAILMENT, NLIModel

#: How many sentences back a connective may reach for its antecedent. A contrast ("However, …")
#: answers the sentence right before it; if that sentence is not a claim, the contrast is aimed
#: at something outside the graph and no discourse edge is drawn (NLI and the default decide).
ANTECEDENT_WINDOW = {"contrast": 1}
DEFAULT_WINDOW = 2


@dataclass(frozen=True)
class EdgeNode:
    """A claim (or the root) with its sentence position and leading connective, if any."""

    node_id: str
    text: str
    index: int
    connective: tuple[str, str, RelationType] | None = None
    opposing_cue: bool = False


class EdgeBuilder:
    """Accumulates edges in a scratch DiGraph so cycles are refused before the SNO sees them."""

    def __init__(self, node_ids: list[str]) -> None:
        self.graph: nx.DiGraph[str] = nx.DiGraph()
        self.graph.add_nodes_from([ROOT_ID, *node_ids])
        self.edges: list[ExtractedEdge] = []
        self.skipped_cycles = 0

    def add(self, source: str, target: str, relation: RelationType, strength: float, basis: str) -> bool:
        if source == target or self.graph.has_edge(source, target) or self.graph.has_edge(target, source):
            return False
        if source == ROOT_ID or nx.has_path(self.graph, target, source):
            self.skipped_cycles += 1
            return False
        self.graph.add_edge(source, target)
        self.edges.append(
            ExtractedEdge(source, target, relation, round(min(1.0, max(0.0, strength)), 4), basis)
        )
        return True

    def reaches_root(self, node_id: str) -> bool:
        return nx.has_path(self.graph, node_id, ROOT_ID)


def _antecedent(node: EdgeNode, ordered: list[EdgeNode], role: str) -> EdgeNode | None:
    window = ANTECEDENT_WINDOW.get(role, DEFAULT_WINDOW)
    before = [n for n in ordered if n.index < node.index and node.index - n.index <= window]
    return before[-1] if before else None


def _discourse_edges(builder: EdgeBuilder, ordered: list[EdgeNode], opposing: set[str]) -> None:
    for node in ordered:
        if node.node_id == ROOT_ID or node.connective is None:
            continue
        phrase, role, relation = node.connective
        prev = _antecedent(node, ordered, role)
        target = prev.node_id if prev is not None else ROOT_ID
        basis = f"discourse:{phrase}"
        if role == "premise":
            builder.add(node.node_id, target, RelationType.SUPPORTS, 0.8, basis)
        elif role == "contrast":
            if prev is None:
                continue
            strong = relation is RelationType.CONTRADICTS or (target == ROOT_ID and node.node_id in opposing)
            builder.add(
                node.node_id, target, RelationType.CONTRADICTS if strong else RelationType.WEAKENS, 0.7, basis
            )
        elif prev is not None and prev.node_id != ROOT_ID:
            # conclusion / explains / generalizes: the antecedent is the premise
            builder.add(prev.node_id, node.node_id, relation, 0.8, basis)


def _nli_matrix(nli: NLIModel | None, pairs: list[tuple[str, str]]) -> NDArray[np.float32]:
    if nli is None or not pairs:
        neutral = np.zeros((len(pairs), 3), dtype=np.float32)
        neutral[:, 1] = 1.0
        return neutral
    return nli.predict(pairs)


#: When NLI alone may draw an edge: the ``extraction.nli`` settings (the thresholds and why
#: opposition needs more than entailment are documented on the class).
NLIPolicy = EdgeNLIConfig


def build_edges(
    hypothesis: str,
    nodes: list[EdgeNode],
    nli: NLIModel | None,
    *,
    policy: NLIPolicy | None = None,
    prefetch: Sequence[tuple[str, str]] = (),
) -> tuple[list[ExtractedEdge], set[str], int]:
    """Edges for ``nodes`` (claims plus the root node, in document order).

    Returns the edges, the ids of claims that oppose the hypothesis (typed as counter-claims by the
    caller) and the number of edges skipped because they would close a cycle. ``prefetch`` pairs
    are judged in the same NLI call and their results dropped: with a memoising model (the
    ingestion :class:`~cns.models.session.ModelSession`) a later caller — the grounding critic —
    then finds them answered, so the document needs one forward pass instead of two.
    """
    policy = policy or NLIPolicy()
    claims = [n for n in nodes if n.node_id != ROOT_ID]
    builder = EdgeBuilder([c.node_id for c in claims])
    # NLI is the expensive part: ask it about (claim, hypothesis) for every claim, but about
    # consecutive claims only where a counter-argument cue makes a contradiction plausible.
    consecutive = [(a, b) for a, b in pairwise(claims) if b.opposing_cue]
    pairs = [(c.text, hypothesis) for c in claims] + [(b.text, a.text) for a, b in consecutive]
    probs = _nli_matrix(nli, [*pairs, *prefetch])
    entail = {c.node_id: float(probs[i, ENTAILMENT]) for i, c in enumerate(claims)}
    contra = {c.node_id: float(probs[i, CONTRADICTION]) for i, c in enumerate(claims)}
    opposing = {
        c.node_id for c in claims if policy.opposes(entail[c.node_id], contra[c.node_id], c.opposing_cue)
    }
    _discourse_edges(builder, nodes, opposing)
    for claim in claims:
        cid = claim.node_id
        if cid in opposing:
            relation = RelationType.CONTRADICTS if contra[cid] >= policy.certain else RelationType.WEAKENS
            builder.add(cid, ROOT_ID, relation, contra[cid], "nli:contradiction")
        elif entail[cid] >= policy.entail and not builder.reaches_root(cid):
            builder.add(cid, ROOT_ID, RelationType.SUPPORTS, entail[cid], "nli:entailment")
    for k, (earlier, later) in enumerate(consecutive):
        row = probs[len(claims) + k]
        if policy.opposes(float(row[ENTAILMENT]), float(row[CONTRADICTION]), corroborated=True):
            builder.add(
                later.node_id,
                earlier.node_id,
                RelationType.CONTRADICTS,
                float(row[CONTRADICTION]),
                "nli:contradiction",
            )
    for claim in claims:
        if not builder.reaches_root(claim.node_id):
            # chosen as salient argument of a document whose thesis is the root
            strength = 0.3 + 0.4 * entail[claim.node_id]
            builder.add(claim.node_id, ROOT_ID, RelationType.SUPPORTS, strength, "default:salient")
    return builder.edges, opposing, builder.skipped_cycles
