"""The reference :class:`~cns.ports.SNOStore`: a dict of serialised SNOs.

SNOs are stored as their ``to_dict()`` JSON so that a caller mutating an SNO after ``put`` does
not silently change what the store holds — the same semantics the SQL store has.
"""

from __future__ import annotations

from typing import Any

from cns.core.sno import StructuredNarrativeObject
from cns.errors import SNONotFoundError


class InMemorySNOStore:
    """Process-local store for tests, notebooks and the single-shot CLI."""

    def __init__(self) -> None:
        self._data: dict[str, dict[str, Any]] = {}

    def put(self, sno: StructuredNarrativeObject) -> None:
        self._data[sno.sno_id] = sno.to_dict()

    def get(self, sno_id: str) -> StructuredNarrativeObject:
        data = self._data.get(sno_id)
        if data is None:
            raise SNONotFoundError.for_id(sno_id)
        return StructuredNarrativeObject.from_dict(data)

    def delete(self, sno_id: str) -> bool:
        return self._data.pop(sno_id, None) is not None

    def list(
        self, *, status: str | None = None, min_trust: float | None = None
    ) -> list[StructuredNarrativeObject]:
        result = []
        for data in self._data.values():
            if status is not None and data.get("status") != status:
                continue
            trust = data.get("trust_score")
            if min_trust is not None and (trust is None or trust < min_trust):
                continue
            result.append(StructuredNarrativeObject.from_dict(data))
        return result

    def __len__(self) -> int:
        return len(self._data)
