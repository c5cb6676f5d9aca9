"""One reader's view of a synthesis SNO, shared by the report, ``cns sno show`` and the API.

A synthesis keeps its structure and its provenance in metadata (sections, references, per-claim
spans, the audit). Three surfaces show them; building the view once here keeps them saying the
same thing: what the synthesis says, section by section, and where each claim comes from.
"""

from __future__ import annotations

from typing import Any

from cns.core.graph import ROOT_ID
from cns.core.sno import StructuredNarrativeObject
from cns.synthesis.dialectical import SECTION_ORDER

SECTION_TITLES = {
    "common_ground": "Common ground",
    "conflict": "Point of conflict",
    "evidence_for_each_side": "What the shared evidence shows for each side",
    "open_question": "Open question",
}


def is_synthesis(sno: StructuredNarrativeObject) -> bool:
    """A synthesized SNO: stored by the lifecycle (``parent_ids``) or fresh from the engine."""
    meta = sno.metadata
    return "parent_ids" in meta or (bool(meta.get("synthesizer")) and "parents" in meta)


def _span(span: dict[str, Any]) -> dict[str, Any]:
    keep = ("sno_id", "source", "document_id", "start", "end", "quote", "evidence_key", "claim_id", "match")
    return {k: span.get(k) for k in keep} | {"p_entail": span.get("p_entail")}


def claim_provenance(sno: StructuredNarrativeObject) -> list[dict[str, Any]]:
    """Each claim (hypothesis first) with the parent claims and source spans it rests on."""
    out = []
    for claim in sno.claims():
        record = claim.metadata.get("provenance") or {}
        out.append(
            {
                "claim_id": claim.claim_id,
                "text": claim.content,
                "section": "hypothesis" if claim.claim_id == ROOT_ID else claim.metadata.get("section"),
                "verified": bool(record.get("verified")),
                "flagged": record.get("flagged"),
                "match": record.get("match"),
                "parent_claims": list(record.get("parent_claims") or []),
                "spans": [_span(s) for s in record.get("spans") or []],
            }
        )
    return out


def synthesis_view(sno: StructuredNarrativeObject) -> dict[str, Any]:
    """The JSON-safe view: synthesizer, hypothesis, titled sections, references, provenance, audit."""
    meta = sno.metadata
    sections = meta.get("sections") or {}
    return {
        "synthesizer": meta.get("synthesizer"),
        "hypothesis": sno.central_hypothesis,
        "accepted": meta.get("accepted"),
        "rejection": list(meta.get("rejection") or []),
        "sides": dict(meta.get("sides") or {}),
        "sections": [
            {"name": name, "title": SECTION_TITLES[name], "sentences": list(sections[name])}
            for name in SECTION_ORDER
            if sections.get(name)
        ],
        "references": list(meta.get("references") or []),
        "claims": claim_provenance(sno),
        "provenance_audit": dict(meta.get("provenance_audit") or {}),
    }
