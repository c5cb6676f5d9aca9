"""Evidence items from a document: cited sources, and the sentences that ground each claim.

* A citation becomes an item whose ``source_id`` is the cited work's canonical id (DOI, URL,
  resolved reference) and whose ``content`` is the **citing sentence** — a usable NLI premise,
  unlike a label such as "Citation reference: [3]".
* A grounding item is a sentence of the document itself; its ``source_id`` names the document and
  the span, so two sentences are two items and the same sentence ingested twice is one.

Every item's ``span`` satisfies ``document.text[start:end] == item.content``.
"""

from __future__ import annotations

from cns.core.evidence import EvidenceItem
from cns.ingestion.citations import Citation
from cns.ingestion.document import Document
from cns.ingestion.references import ReferenceEntry
from cns.ingestion.segment import Sentence

#: Self-grounding is weaker evidence than an external source: it shows where a claim is stated,
#: not that an independent work supports it (used by the quality-weighted Jaccard and grounding).
SENTENCE_QUALITY = 0.6
CITATION_QUALITY = 1.0


def sentence_source_id(document: Document, start: int, end: int) -> str:
    return f"doc:{document.document_id[:16]}#{start}-{end}"


def span_item(document: Document, start: int, end: int, role: str, confidence: float = 1.0) -> EvidenceItem:
    """An item for ``document.text[start:end]`` (the caller guarantees a non-empty span)."""
    return EvidenceItem(
        content=document.text[start:end],
        source_id=sentence_source_id(document, start, end),
        span=(start, end),
        document_id=document.document_id,
        confidence=confidence,
        quality=SENTENCE_QUALITY,
        metadata={"kind": "source_sentence", "role": role},
    )


def sentence_item(document: Document, sentence: Sentence, role: str) -> EvidenceItem:
    return span_item(document, sentence.start, sentence.end, role)


def citation_item(document: Document, sentence: Sentence, citation: Citation) -> EvidenceItem:
    metadata: dict[str, object] = {
        "kind": "citation",
        "citation_kind": citation.kind,
        "marker": citation.marker,
        "resolved": citation.resolved,
    }
    if citation.reference is not None:
        metadata["reference"] = citation.reference.text[:300]
    return EvidenceItem(
        content=sentence.text,
        source_id=citation.source_id,
        span=(sentence.start, sentence.end),
        document_id=document.document_id,
        confidence=0.9 if citation.resolved else 0.7,
        quality=CITATION_QUALITY,
        metadata=metadata,
    )


def reference_item(document: Document, entry: ReferenceEntry) -> EvidenceItem:
    """A reference-list entry never cited in the text: still a source the document relies on."""
    return EvidenceItem(
        content=entry.text,
        source_id=entry.source_id,
        span=(entry.start, entry.end),
        document_id=document.document_id,
        confidence=0.6,
        quality=CITATION_QUALITY,
        metadata={"kind": "reference", "cited_in_text": False},
    )
