"""The Structured Narrative Object: ``S = (H, G, E, T)`` plus metadata.

* ``H`` — ``hypothesis_embedding``: unit vector of the central hypothesis;
* ``G`` — ``reasoning_graph``: a NetworkX DiGraph of :class:`ClaimNode` (node attribute
  ``claim``) and :class:`ReasoningEdge` (edge attribute ``reasoning_edge``), premise → conclusion,
  always acyclic, always containing the root node ``"root"`` holding the hypothesis;
* ``E`` — ``evidence_set``: a set of :class:`EvidenceItem`, identified by canonical key;
* ``T`` — ``trust_score``: ``None`` until a critic pipeline sets it, then in [0, 1].

Strict on purpose (docs/design-notes.md#the-narrative-object): unknown node ids and cycles raise
instead of being logged; strengths, trust and confidences are range-checked; the embedding
dimension is validated against the configured model; a ``content_hash`` over the narrative
content supports de-duplication; claim ids and content hashes come from SHA-256.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import networkx as nx
import numpy as np

from cns.core.evidence import EvidenceItem
from cns.core.graph import ROOT_ID, ClaimNode, ReasoningEdge, RelationType
from cns.core.ids import canonical_json, normalize_text, sha256_hex
from cns.errors import EmbeddingDimensionError, GraphCycleError, UnknownNodeError, ValidationError

SNO_SCHEMA_VERSION = 3


class SNOStatus(StrEnum):
    """Life-cycle of an SNO in the population."""

    CANDIDATE = "candidate"  # built, not yet evaluated or not yet admitted
    ACTIVE = "active"  # admitted into the population (T above the threshold)
    ARCHIVED = "archived"  # kept with a reason (rejected, evicted, superseded) — never dropped


class StructuredNarrativeObject:
    """A narrative as data: hypothesis, reasoning graph, evidence and trust."""

    def __init__(
        self,
        central_hypothesis: str,
        *,
        sno_id: str | None = None,
        hypothesis_embedding: np.ndarray | Iterable[float] | None = None,
        evidence_set: Iterable[EvidenceItem] = (),
        trust_score: float | None = None,
        metadata: dict[str, Any] | None = None,
        created_at: datetime | None = None,
        status: SNOStatus | str = SNOStatus.CANDIDATE,
        embedding_dim: int | None = None,
    ) -> None:
        if not isinstance(central_hypothesis, str) or not central_hypothesis.strip():
            raise ValidationError("central_hypothesis must be a non-empty string", field="central_hypothesis")
        self.central_hypothesis = central_hypothesis.strip()
        # Random by default; ingestion and synthesis pass deterministic sha256 ids.
        self.sno_id = sno_id or uuid.uuid4().hex
        self.created_at = created_at or datetime.now(UTC)
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.status = SNOStatus(status)
        self.evaluation: dict[str, Any] | None = None
        self.sno_schema_version = SNO_SCHEMA_VERSION
        self.reasoning_graph: nx.DiGraph[str] = nx.DiGraph()
        self.reasoning_graph.add_node(
            ROOT_ID, claim=ClaimNode(ROOT_ID, self.central_hypothesis, claim_type="central_hypothesis")
        )
        self.evidence_set: set[EvidenceItem] = set()
        for item in evidence_set:
            self.add_evidence(item)
        self._trust: float | None = None
        self.trust_score = trust_score
        self.hypothesis_embedding: np.ndarray | None = None
        if hypothesis_embedding is not None:
            self.set_embedding(hypothesis_embedding, expected_dim=embedding_dim)

    # ------------------------------------------------------------------ trust & embedding
    @property
    def trust_score(self) -> float | None:
        return self._trust

    @trust_score.setter
    def trust_score(self, value: float | None) -> None:
        if value is not None:
            value = float(value)
            if math.isnan(value) or not 0.0 <= value <= 1.0:
                raise ValidationError(
                    f"trust_score must be in [0, 1] or None, got {value!r}", field="trust_score"
                )
        self._trust = value

    def set_embedding(self, vector: np.ndarray | Iterable[float], *, expected_dim: int | None = None) -> None:
        """Set ``H`` (L2-normalised here: every distance assumes unit vectors); raise if its length is
        not ``expected_dim``."""
        arr = np.asarray(list(vector) if not isinstance(vector, np.ndarray) else vector, dtype=np.float32)
        if arr.ndim != 1 or arr.size == 0:
            raise ValidationError(
                f"hypothesis_embedding must be a non-empty 1-D vector, got shape {arr.shape}"
            )
        if expected_dim is not None and arr.shape[0] != expected_dim:
            raise EmbeddingDimensionError.mismatch(expected=expected_dim, actual=int(arr.shape[0]))
        if not np.all(np.isfinite(arr)):
            raise ValidationError("hypothesis_embedding contains NaN or infinite values")
        norm = float(np.linalg.norm(arr))
        # already-unit vectors are kept bit-for-bit, so a JSON round trip is exact
        self.hypothesis_embedding = arr / norm if norm > 0 and abs(norm - 1.0) > 1e-5 else arr

    # ------------------------------------------------------------------ graph
    @property
    def root(self) -> ClaimNode:
        claim: ClaimNode = self.reasoning_graph.nodes[ROOT_ID]["claim"]
        return claim

    def add_claim(
        self,
        content: str,
        claim_type: str = "assertion",
        *,
        claim_id: str | None = None,
        confidence: float = 1.0,
        metadata: dict[str, Any] | None = None,
    ) -> str:
        """Add a claim node and return its id (``claim_<n>`` by default); duplicate ids raise."""
        graph = self.reasoning_graph
        if claim_id is None:
            n = graph.number_of_nodes()
            while f"claim_{n}" in graph:
                n += 1
            claim_id = f"claim_{n}"
        if claim_id in graph:
            raise ValidationError(
                f"claim id {claim_id!r} already exists in SNO {self.sno_id}", claim_id=claim_id
            )
        node = ClaimNode(claim_id, content, claim_type, confidence=confidence, metadata=dict(metadata or {}))
        graph.add_node(claim_id, claim=node)
        return claim_id

    def add_reasoning_edge(
        self,
        source: str,
        target: str,
        relation_type: RelationType | str = RelationType.SUPPORTS,
        strength: float = 1.0,
        *,
        metadata: dict[str, Any] | None = None,
    ) -> ReasoningEdge:
        """Add ``source → target``; unknown ids raise ``UnknownNodeError``, cycles ``GraphCycleError``."""
        graph = self.reasoning_graph
        for node_id in (source, target):
            if node_id not in graph:
                raise UnknownNodeError.for_node(node_id)
        if source == target or nx.has_path(graph, target, source):
            raise GraphCycleError.for_edge(source, target)
        edge = ReasoningEdge(
            source, target, RelationType.parse(relation_type), strength, dict(metadata or {})
        )
        graph.add_edge(source, target, reasoning_edge=edge)
        return edge

    def get_claim(self, claim_id: str) -> ClaimNode:
        if claim_id not in self.reasoning_graph:
            raise UnknownNodeError.for_node(claim_id)
        claim: ClaimNode = self.reasoning_graph.nodes[claim_id]["claim"]
        return claim

    def claims(self) -> Iterator[ClaimNode]:
        """All claims, root first, then in insertion order."""
        for _, data in self.reasoning_graph.nodes(data=True):
            yield data["claim"]

    def edges(self) -> Iterator[ReasoningEdge]:
        for _, _, data in self.reasoning_graph.edges(data=True):
            yield data["reasoning_edge"]

    def add_evidence(self, item: EvidenceItem) -> bool:
        """Add ``item``; return False if an item with the same canonical key is already present."""
        if not isinstance(item, EvidenceItem):
            raise ValidationError(f"evidence must be an EvidenceItem, got {type(item).__name__}")
        if item in self.evidence_set:
            return False
        self.evidence_set.add(item)
        return True

    @property
    def evidence_keys(self) -> frozenset[str]:
        """Canonical keys of every evidence item (sources and the document's own sentences)."""
        return frozenset(item.key for item in self.evidence_set)

    @property
    def source_keys(self) -> frozenset[str]:
        """Canonical keys of the *sources* (citations, references, data); entanglement uses these."""
        return frozenset(item.key for item in self.evidence_set if item.is_source)

    def get_graph_statistics(self) -> dict[str, Any]:
        """Nodes, edges, density, DAG flag, mean degrees and per-relation counts."""
        graph = self.reasoning_graph
        n = graph.number_of_nodes()
        relations = {r.value: 0 for r in RelationType}
        for edge in self.edges():
            relations[edge.relation_type.value] += 1
        return {
            "nodes": n,
            "edges": graph.number_of_edges(),
            "density": nx.density(graph) if n > 1 else 0.0,
            "is_dag": nx.is_directed_acyclic_graph(graph),
            "avg_in_degree": sum(d for _, d in graph.in_degree()) / n,
            "avg_out_degree": sum(d for _, d in graph.out_degree()) / n,
            "relation_counts": relations,
        }

    # ------------------------------------------------------------------ identity
    def content_hash(self) -> str:
        """SHA-256 over the narrative's content: hypothesis, claims, edges and evidence keys.

        Excludes the id, timestamps, trust, embeddings and metadata, so two SNOs that say the same
        thing on the same evidence hash equal (used for de-duplication).
        """
        payload = {
            "hypothesis": normalize_text(self.central_hypothesis),
            "claims": sorted((c.claim_id, normalize_text(c.content), c.claim_type) for c in self.claims()),
            "edges": sorted(
                (e.source, e.target, e.relation_type.value, round(e.strength, 6)) for e in self.edges()
            ),
            "evidence": sorted(self.evidence_keys),
        }
        return sha256_hex(canonical_json(payload))

    def validate(self, *, embedding_dim: int | None = None) -> None:
        """Re-check every invariant; raise the first violation found (used after deserialisation)."""
        if not nx.is_directed_acyclic_graph(self.reasoning_graph):
            cycle = nx.find_cycle(self.reasoning_graph)
            raise GraphCycleError(f"reasoning graph of SNO {self.sno_id} has a cycle: {cycle}", cycle=cycle)
        if ROOT_ID not in self.reasoning_graph:
            raise ValidationError(f"SNO {self.sno_id} has no root node")
        for u, v, data in self.reasoning_graph.edges(data=True):
            edge = data.get("reasoning_edge")
            if not isinstance(edge, ReasoningEdge) or (edge.source, edge.target) != (u, v):
                raise ValidationError(
                    f"edge {u!r} -> {v!r} of SNO {self.sno_id} has no matching ReasoningEdge"
                )
        if embedding_dim is not None and self.hypothesis_embedding is not None:
            actual = int(self.hypothesis_embedding.shape[0])
            if actual != embedding_dim:
                raise EmbeddingDimensionError.mismatch(expected=embedding_dim, actual=actual)

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        from cns.core.serialization import sno_to_dict

        return sno_to_dict(self)

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], *, embedding_dim: int | None = None
    ) -> StructuredNarrativeObject:
        from cns.core.serialization import sno_from_dict

        return sno_from_dict(data, embedding_dim=embedding_dim)

    def __repr__(self) -> str:
        trust = "∅" if self.trust_score is None else f"{self.trust_score:.3f}"
        return (
            f"StructuredNarrativeObject(id={self.sno_id[:12]}, T={trust}, claims={self.reasoning_graph.number_of_nodes()}, "
            f"evidence={len(self.evidence_set)}, hypothesis={self.central_hypothesis[:60]!r})"
        )
