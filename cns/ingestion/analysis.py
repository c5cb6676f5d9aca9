"""Read a document once: sentences, sections, the reference list and every citation.

Both extractors start from this analysis; the citation evidence derived from it is the same
whichever extractor runs, so two documents citing one DOI share an evidence key either way.
"""

from __future__ import annotations

from dataclasses import dataclass

from cns.core.evidence import EvidenceItem
from cns.ingestion.citations import Citation, CitationResolver
from cns.ingestion.document import Document
from cns.ingestion.evidence import citation_item, reference_item
from cns.ingestion.references import find_reference_section, parse_references
from cns.ingestion.segment import Sentence, split_sentences


@dataclass
class DocumentAnalysis:
    """Sentences, sections and citations of one document (shared with the LLM extractor)."""

    sentences: list[Sentence]
    body: list[Sentence]
    sections: dict[int, str]
    citations: dict[int, list[Citation]]
    references_start: int | None
    resolver: CitationResolver


def analyse(document: Document) -> DocumentAnalysis:
    sentences = split_sentences(document.text)
    ref_start = find_reference_section(document.text)
    references = parse_references(document.text, ref_start) if ref_start is not None else []
    body = [s for s in sentences if ref_start is None or s.start < ref_start]
    sections: dict[int, str] = {}
    current = ""
    for s in body:
        if s.is_heading:
            current = s.text.lower()
        sections[s.index] = current
    resolver = CitationResolver(references, document.document_id)
    citations = {s.index: resolver.find(s.text) for s in body if not s.is_heading}
    return DocumentAnalysis(sentences, body, sections, citations, ref_start, resolver)


def citation_evidence(document: Document, analysis: DocumentAnalysis, *, uncited: bool) -> list[EvidenceItem]:
    """One item per cited source (first citing sentence wins) plus uncited identified references."""
    items: list[EvidenceItem] = []
    by_index = {s.index: s for s in analysis.body}
    cited: set[str] = set()
    for index, citations in analysis.citations.items():
        for citation in citations:
            items.append(citation_item(document, by_index[index], citation))
            cited.add(citation.source_id)
    if uncited:
        for entry in analysis.resolver.references:
            if entry.has_identifier and entry.source_id not in cited:
                items.append(reference_item(document, entry))
    return items


def cap_sources(items: list[EvidenceItem], limit: int) -> tuple[list[EvidenceItem], int]:
    """The items in order while they name at most ``limit`` distinct sources, and how many were dropped.

    Every evidence item is embedded and judged against the claims, so a book-length text citing
    thousands of sources would cost minutes per document; the first ``limit`` sources (the claims'
    own evidence comes first) are kept and the number of dropped items is recorded in the SNO.
    """
    keys: set[str] = set()
    kept: list[EvidenceItem] = []
    for item in items:
        if item.key not in keys:
            if len(keys) >= limit:
                continue
            keys.add(item.key)
        kept.append(item)
    return kept, len(items) - len(kept)
