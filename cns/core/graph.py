"""Reasoning-graph vocabulary: claims, typed edges and relation types.

Edges point **premise → conclusion**: ``c1 → root`` with ``supports`` means "c1 supports the
central hypothesis". The root is therefore a sink, and the graph must stay acyclic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from cns.errors import ValidationError

ROOT_ID = "root"


class RelationType(StrEnum):
    """How a premise bears on its conclusion."""

    SUPPORTS = "supports"
    CONTRADICTS = "contradicts"
    IMPLIES = "implies"
    WEAKENS = "weakens"
    EXPLAINS = "explains"
    GENERALIZES = "generalizes"

    @property
    def is_opposing(self) -> bool:
        """Edges that argue *against* their target (penalised inside supporting chains by the logic critic)."""
        return self in (RelationType.CONTRADICTS, RelationType.WEAKENS)

    @classmethod
    def parse(cls, value: str | RelationType) -> RelationType:
        """Accept an enum member or its value in any case; unknown names raise ``ValidationError``."""
        if isinstance(value, RelationType):
            return value
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            allowed = ", ".join(m.value for m in cls)
            raise ValidationError(
                f"unknown relation type {value!r}; expected one of: {allowed}", value=value
            ) from None


def _check_unit(name: str, value: float) -> float:
    value = float(value)
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        raise ValidationError(f"{name} must be in [0, 1], got {value!r}", field=name)
    return value


@dataclass
class ClaimNode:
    """A node of the reasoning graph: one claim (the root holds the central hypothesis)."""

    claim_id: str
    content: str
    claim_type: str = "assertion"
    confidence: float = 1.0
    embedding: np.ndarray | None = field(default=None, repr=False)
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.claim_id or not str(self.claim_id).strip():
            raise ValidationError("claim_id must be a non-empty string")
        if not isinstance(self.content, str) or not self.content.strip():
            raise ValidationError(f"claim {self.claim_id!r} has empty content", claim_id=self.claim_id)
        self.confidence = _check_unit("confidence", self.confidence)

    def to_dict(self) -> dict[str, Any]:
        return {
            "claim_id": self.claim_id,
            "content": self.content,
            "claim_type": self.claim_type,
            "confidence": self.confidence,
            "embedding": None if self.embedding is None else [float(x) for x in self.embedding],
            "metadata": self.metadata,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClaimNode:
        emb = data.get("embedding")
        return cls(
            claim_id=str(data["claim_id"]),
            content=data["content"],
            claim_type=data.get("claim_type", "assertion"),
            confidence=float(data.get("confidence", 1.0)),
            embedding=None if emb is None else np.asarray(emb, dtype=np.float32),
            metadata=dict(data.get("metadata") or {}),
        )


@dataclass
class ReasoningEdge:
    """A typed, weighted edge premise → conclusion."""

    source: str
    target: str
    relation_type: RelationType = RelationType.SUPPORTS
    strength: float = 1.0
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.relation_type = RelationType.parse(self.relation_type)
        self.strength = _check_unit("strength", self.strength)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "relation_type": self.relation_type.value,
            "strength": self.strength,
            "metadata": self.metadata,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReasoningEdge:
        return cls(
            source=str(data["source"]),
            target=str(data["target"]),
            relation_type=RelationType.parse(data.get("relation_type", "supports")),
            strength=float(data.get("strength", 1.0)),
            metadata=dict(data.get("metadata") or {}),
        )
