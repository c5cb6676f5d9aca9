"""JSON round trip of SNOs (one JSON document per SNO) and on-the-fly schema migration.

The reasoning graph is written in NetworkX node-link form with the links key pinned to
``"links"`` explicitly: NetworkX 3.4 changed the default key, which silently broke files
written by older versions.

Migrations are plain functions registered per *source* version; :func:`migrate` applies them in
order until the data reaches :data:`SNO_SCHEMA_VERSION`. A file without a version is version 1.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from cns.core.evidence import EvidenceItem
from cns.core.graph import ROOT_ID, ClaimNode, ReasoningEdge
from cns.core.sno import SNO_SCHEMA_VERSION, SNOStatus, StructuredNarrativeObject
from cns.core.sno_shape import check_sno_shape
from cns.errors import ValidationError

LINKS_KEY = "links"
Migration = Callable[[dict[str, Any]], dict[str, Any]]
_MIGRATIONS: dict[int, Migration] = {}


def register_migration(from_version: int) -> Callable[[Migration], Migration]:
    """Decorator: register ``fn`` to upgrade a dict from ``from_version`` to ``from_version + 1``."""

    def decorator(fn: Migration) -> Migration:
        if from_version in _MIGRATIONS:
            raise ValueError(f"a migration from schema version {from_version} is already registered")
        _MIGRATIONS[from_version] = fn
        return fn

    return decorator


@register_migration(1)
def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v1 files had no metadata dict."""
    data.setdefault("metadata", {})
    return data


@register_migration(2)
def _v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    """v3 adds status and evaluation; evidence keys are recomputed from source/content on load."""
    data.setdefault("status", SNOStatus.ACTIVE.value if data.get("trust_score") is not None else "candidate")
    data.setdefault("evaluation", None)
    return data


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Upgrade ``data`` (a copy) to the current schema version."""
    data = dict(data)
    version = int(data.get("sno_schema_version") or 1)
    if version > SNO_SCHEMA_VERSION:
        raise ValidationError(
            f"SNO schema version {version} is newer than this cns supports ({SNO_SCHEMA_VERSION}); upgrade cns",
            version=version,
        )
    while version < SNO_SCHEMA_VERSION:
        data = _MIGRATIONS[version](data)
        version += 1
    data["sno_schema_version"] = version
    return data


def sno_to_dict(sno: StructuredNarrativeObject) -> dict[str, Any]:
    """A JSON-safe dict of ``sno`` (the layout every store and export uses)."""
    graph = sno.reasoning_graph
    return {
        "sno_id": sno.sno_id,
        "sno_schema_version": sno.sno_schema_version,
        "central_hypothesis": sno.central_hypothesis,
        "created_at": sno.created_at.isoformat(),
        "hypothesis_embedding": None
        if sno.hypothesis_embedding is None
        else [float(x) for x in sno.hypothesis_embedding],
        "reasoning_graph": {
            "directed": True,
            "multigraph": False,
            "graph": {},
            "nodes": [
                {"id": node, "claim": data["claim"].to_dict()} for node, data in graph.nodes(data=True)
            ],
            LINKS_KEY: [
                {"source": u, "target": v, "reasoning_edge": data["reasoning_edge"].to_dict()}
                for u, v, data in graph.edges(data=True)
            ],
        },
        "evidence_set": [item.to_dict() for item in sorted(sno.evidence_set, key=lambda e: e.key)],
        "trust_score": sno.trust_score,
        "status": sno.status.value,
        "evaluation": sno.evaluation,
        "content_hash": sno.content_hash(),
        "metadata": sno.metadata,
    }


_REQUIRED = ("central_hypothesis", "reasoning_graph")


def _created_at(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"SNO data: created_at {value[:40]!r} is not an ISO 8601 date") from None


def _status(value: str | None) -> SNOStatus:
    if not value:
        return SNOStatus.CANDIDATE
    try:
        return SNOStatus(value)
    except ValueError:
        allowed = ", ".join(s.value for s in SNOStatus)
        raise ValidationError(f"SNO data: status {value[:40]!r} is not one of {allowed}") from None


def sno_from_dict(data: dict[str, Any], *, embedding_dim: int | None = None) -> StructuredNarrativeObject:
    """Rebuild an SNO from :func:`sno_to_dict` output, migrating older schema versions first."""
    if not isinstance(data, dict):
        raise ValidationError(f"an SNO must be a JSON object, got {type(data).__name__}")
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise ValidationError(f"SNO data is missing required key(s): {', '.join(missing)}", missing=missing)
    check_sno_shape(data)
    data = migrate(data)
    sno = StructuredNarrativeObject(
        data["central_hypothesis"],
        sno_id=data.get("sno_id") or None,
        hypothesis_embedding=data.get("hypothesis_embedding"),
        evidence_set=[EvidenceItem.from_dict(e) for e in data.get("evidence_set") or []],
        trust_score=data.get("trust_score"),
        metadata=dict(data.get("metadata") or {}),
        created_at=_created_at(data.get("created_at")),
        status=_status(data.get("status")),
        embedding_dim=embedding_dim,
    )
    sno.evaluation = data.get("evaluation")
    graph_data = data["reasoning_graph"]
    links = (graph_data[LINKS_KEY] if LINKS_KEY in graph_data else graph_data.get("edges")) or []
    for node in graph_data.get("nodes") or []:
        claim = ClaimNode.from_dict(node["claim"])
        if claim.claim_id == ROOT_ID:
            sno.reasoning_graph.nodes[ROOT_ID]["claim"] = claim
            continue
        sno.add_claim(
            claim.content,
            claim.claim_type,
            claim_id=claim.claim_id,
            confidence=claim.confidence,
            metadata=claim.metadata,
        )
        sno.get_claim(claim.claim_id).embedding = claim.embedding
    for link in links:
        edge = ReasoningEdge.from_dict(link["reasoning_edge"])
        sno.add_reasoning_edge(
            edge.source, edge.target, edge.relation_type, edge.strength, metadata=edge.metadata
        )
    stored_hash = data.get("content_hash")
    if stored_hash and stored_hash != sno.content_hash():
        raise ValidationError(
            f"SNO {sno.sno_id}: content_hash does not match its content (file edited or corrupt)"
        )
    return sno
