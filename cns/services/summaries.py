"""What the API's lists show of each item: a short summary, the rest on request.

An SNO's JSON is mostly what a list does not need: the hypothesis vector alone is 384 numbers
(about 8 KB of JSON), the reasoning graph, the evidence and every critic's report several KB
more. A list item is therefore a summary — id, hypothesis, file, status, trust, counts, each
critic's score — well under 1 KB, and a client asks for more with ``include``:

* ``full`` — every field of the SNO's JSON except the vector (what ``GET /snos/{id}`` shows);
* ``embedding`` — the hypothesis vector (``hypothesis_embedding``) too.

A pair in a list carries both narratives' files and hypotheses, so a reader sees what disagrees
with what without one more request per side.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Literal

from cns.ports import StoreRepositories

Include = Literal["full", "embedding"]
EMBEDDING = "hypothesis_embedding"


def sno_summary(data: Mapping[str, Any]) -> dict[str, Any]:
    """The short form of an SNO's JSON: what a list row shows, without the vector."""
    meta = data.get("metadata") or {}
    graph = data.get("reasoning_graph") or {}
    nodes = graph.get("nodes") or []
    critics = ((data.get("evaluation") or {}).get("critic_results")) or {}
    return {
        "sno_id": data.get("sno_id"),
        "central_hypothesis": data.get("central_hypothesis"),
        "source": meta.get("source"),
        "document_id": meta.get("document_id"),
        "title": meta.get("title"),
        "status": data.get("status"),
        "archive_reason": meta.get("archive_reason"),
        "trust_score": data.get("trust_score"),
        "critic_scores": {name: (r or {}).get("score") for name, r in critics.items()},
        "synthesis": "parent_ids" in meta,
        "parent_ids": list(meta.get("parent_ids") or []),
        "claims": max(0, len(nodes) - 1),  # the hypothesis is a node of the graph, not a claim
        "evidence": len(data.get("evidence_set") or []),
        "created_at": data.get("created_at"),
        "content_hash": data.get("content_hash"),
    }


def sno_item(data: Mapping[str, Any], include: Collection[str] = ()) -> dict[str, Any]:
    """One list item: the summary, or (``full``) the SNO's JSON, with the vector only on request."""
    full = "full" in include
    item = {k: v for k, v in data.items() if k != EMBEDDING} if full else sno_summary(data)
    if "embedding" in include:
        item[EMBEDDING] = data.get(EMBEDDING)
    return item


def with_sides(store: StoreRepositories, pairs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each pair with ``file_a``/``file_b`` (the narratives' sources) and ``hypothesis_a``/``_b``;
    None for a side deleted since the pair was found. One read for the whole page."""
    heads = store.reads.sno_heads(sorted({p[k] for p in pairs for k in ("sno_a", "sno_b")}))
    out = []
    for pair in pairs:
        sides: dict[str, Any] = {}
        for side in ("a", "b"):
            head = heads.get(pair[f"sno_{side}"])
            sides[f"file_{side}"] = None if head is None else head.source
            sides[f"hypothesis_{side}"] = None if head is None else head.hypothesis
        out.append({**pair, **sides})
    return out
