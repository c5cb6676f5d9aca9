"""Narrative ingestion: documents → SNOs with claim graphs and linked evidence (docs/ingestion.md).

Loaders read files into :class:`Document` s; an extractor (heuristic offline default, or the LLM
with the heuristic as fallback) produces an :class:`Extraction`; :func:`build_sno` turns it into
a :class:`~cns.core.sno.StructuredNarrativeObject`. The workflow manager
(:mod:`cns.workflow`) adds evaluation and admission.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cns.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from cns.ingestion.builder import build_sno, sno_id_for
    from cns.ingestion.document import Document, document_id_for, make_document
    from cns.ingestion.heuristic import ExtractorSettings, HeuristicExtractor
    from cns.ingestion.llm_extractor import LLMExtractor
    from cns.ingestion.loaders import DEFAULT_MAX_BYTES, LoadResult, SkippedFile, load_file, load_path
    from cns.ingestion.model import ExtractedClaim, ExtractedEdge, Extraction, Extractor
    from cns.ingestion.segment import Sentence, split_sentences


__all__ = [
    "DEFAULT_MAX_BYTES",
    "Document",
    "ExtractedClaim",
    "ExtractedEdge",
    "Extraction",
    "Extractor",
    "ExtractorSettings",
    "HeuristicExtractor",
    "LLMExtractor",
    "LoadResult",
    "Sentence",
    "SkippedFile",
    "build_sno",
    "document_id_for",
    "load_file",
    "load_path",
    "make_document",
    "sno_id_for",
    "split_sentences",
]

_EXPORTS = {
    "build_sno": "cns.ingestion.builder",
    "sno_id_for": "cns.ingestion.builder",
    "Document": "cns.ingestion.document",
    "document_id_for": "cns.ingestion.document",
    "make_document": "cns.ingestion.document",
    "ExtractorSettings": "cns.ingestion.heuristic",
    "HeuristicExtractor": "cns.ingestion.heuristic",
    "LLMExtractor": "cns.ingestion.llm_extractor",
    "DEFAULT_MAX_BYTES": "cns.ingestion.loaders",
    "LoadResult": "cns.ingestion.loaders",
    "SkippedFile": "cns.ingestion.loaders",
    "load_file": "cns.ingestion.loaders",
    "load_path": "cns.ingestion.loaders",
    "ExtractedClaim": "cns.ingestion.model",
    "ExtractedEdge": "cns.ingestion.model",
    "Extraction": "cns.ingestion.model",
    "Extractor": "cns.ingestion.model",
    "Sentence": "cns.ingestion.segment",
    "split_sentences": "cns.ingestion.segment",
}

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
