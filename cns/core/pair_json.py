"""The one JSON shape of a chiral pair, whoever shows it.

A pair reaches users from four places — the API (``GET /pairs``), ``cns export``, the
``pairs.jsonl`` of ``cns run`` and the HTML report — and from two sources: a pair just found by
the search (:class:`~cns.pairs.ChiralPair`) and a pair read back from the store
(:class:`~cns.store.sql.PairRecord`). Each of them builds its dict here, so a client that reads
one of them can read them all, and a field added to a pair appears everywhere at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from cns.core.ids import pair_id_for

#: The keys of :func:`pair_json`, in order.
PAIR_FIELDS = (
    "pair_id",
    "sno_a",
    "sno_b",
    "chirality",
    "entanglement",
    "potential",
    "opposition",
    "source",
    "shared_evidence",
    "evidence_matches",
    "conflict_points",
    "found_at",
)


def pair_json(
    *,
    sno_a: str,
    sno_b: str,
    chirality: float,
    entanglement: float,
    potential: float,
    opposition: float,
    source: str,
    shared_evidence: Iterable[str],
    evidence_matches: Iterable[Mapping[str, Any]],
    conflict_points: Iterable[Mapping[str, Any]],
    found_at: datetime | None = None,
) -> dict[str, Any]:
    """The JSON-safe dict of a pair: ids, scores, where it came from, what it shares and disputes.

    Pairs are given in their canonical orientation (``sno_a`` the smaller id; evidence matches
    and conflict points are oriented the same way); ``found_at`` is when the store first
    recorded the pair (``None`` for a pair that is not stored).
    """
    return {
        "pair_id": pair_id_for(sno_a, sno_b),
        "sno_a": sno_a,
        "sno_b": sno_b,
        "chirality": float(chirality),
        "entanglement": float(entanglement),
        "potential": float(potential),
        "opposition": float(opposition),
        "source": source,
        "shared_evidence": sorted(str(k) for k in shared_evidence),
        "evidence_matches": [dict(m) for m in evidence_matches],
        "conflict_points": [dict(c) for c in conflict_points],
        "found_at": None if found_at is None else found_at.isoformat(),
    }


def pair_files(sno_a: Mapping[str, Any], sno_b: Mapping[str, Any]) -> dict[str, Any]:
    """The file each side of a pair came from (``metadata.source`` of the two SNOs' metadata)."""
    return {"file_a": sno_a.get("source"), "file_b": sno_b.get("source")}
