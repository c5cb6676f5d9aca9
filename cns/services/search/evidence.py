"""Turn stored SNOs into search hits: the narrative, a claim and the evidence spans it rests on.

A document's claim names its evidence by key (``metadata.evidence_keys``), and every evidence
item of an ingested document is a passage of that document with its character range (a sentence
of its own, or the sentence that cites a work). A synthesized claim instead records the parent
spans it was traced to (``metadata.provenance.spans``). Both become :class:`EvidenceSpan`.
"""

from __future__ import annotations

from typing import Any

from cns.core.graph import ClaimNode
from cns.core.sno import StructuredNarrativeObject
from cns.services.search.results import ClaimHit, EvidenceSpan, NarrativeHit
from cns.synthesis.view import is_synthesis

#: evidence kinds whose ``source_id`` names a cited work (the others name the document itself)
CITING_KINDS = frozenset({"citation", "reference"})


def file_of(sno: StructuredNarrativeObject) -> str | None:
    """The file name (or URL) the SNO was extracted from; ``synthesis`` for a synthesis."""
    source = sno.metadata.get("source")
    return source if isinstance(source, str) else None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _span(value: Any) -> tuple[int | None, int | None]:
    if isinstance(value, list | tuple) and len(value) == 2:
        return _int(value[0]), _int(value[1])
    return None, None


def claim_evidence(sno: StructuredNarrativeObject, claim: ClaimNode) -> list[EvidenceSpan]:
    """The passages ``claim`` rests on, in the order the SNO records them."""
    provenance = claim.metadata.get("provenance")
    if isinstance(provenance, dict) and provenance.get("spans"):
        return [
            EvidenceSpan(
                text=str(span.get("quote") or ""),
                file=span.get("source"),
                document_id=span.get("document_id"),
                start=_int(span.get("start")),
                end=_int(span.get("end")),
            )
            for span in provenance["spans"]
            if isinstance(span, dict) and span.get("quote")
        ]
    by_key = {item.key: item for item in sno.evidence_set}
    spans: dict[tuple[Any, ...], EvidenceSpan] = {}
    for key in claim.metadata.get("evidence_keys") or []:
        item = by_key.get(str(key))
        if item is None:
            continue
        start, end = item.span if item.span is not None else (None, None)
        cites = item.source_id if item.metadata.get("kind") in CITING_KINDS else None
        where = (item.document_id, start, end, item.content)
        if where not in spans or cites is not None:  # one passage once; the citing reading wins
            spans[where] = EvidenceSpan(item.content, file_of(sno), item.document_id, start, end, cites)
    return list(spans.values())


def narrative_hit(sno: StructuredNarrativeObject, score: float) -> NarrativeHit:
    reason = sno.metadata.get("archive_reason")
    return NarrativeHit(
        sno_id=sno.sno_id,
        hypothesis=sno.central_hypothesis,
        score=round(float(score), 4),
        file=file_of(sno),
        document_id=sno.metadata.get("document_id"),
        status=sno.status.value,
        trust=sno.trust_score,
        synthesis=is_synthesis(sno),
        archive_reason=reason if isinstance(reason, str) else None,
    )


def claim_hit(sno: StructuredNarrativeObject, claim: ClaimNode, score: float, number: int) -> ClaimHit:
    start, end = _span(claim.metadata.get("span"))
    return ClaimHit(
        number=number,
        sno_id=sno.sno_id,
        claim_id=claim.claim_id,
        text=claim.content,
        score=round(float(score), 4),
        file=file_of(sno),
        document_id=sno.metadata.get("document_id"),
        start=start,
        end=end,
        hypothesis=sno.central_hypothesis,
        status=sno.status.value,
        evidence=claim_evidence(sno, claim),
    )
