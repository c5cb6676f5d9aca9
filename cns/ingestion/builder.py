"""Turn an :class:`Extraction` into a :class:`StructuredNarrativeObject` with full provenance metadata.

One place for the rules every extractor must satisfy: the SNO id is
``stable_id("sno", document_id, extractor@version)`` (deterministic, never a salted ``hash()``:
docs/design-notes.md#deterministic-ids); edges
are added premise → conclusion and any that would close a cycle is skipped (the SNO raises
:class:`~cns.errors.GraphCycleError`, caught here and counted); every claim records the keys of
the evidence that grounds it; and the metadata names the source, the document, the extractor,
the model backends and the time each stage took.
"""

from __future__ import annotations

from typing import Any

from cns.core.graph import ROOT_ID
from cns.core.ids import stable_id
from cns.core.sno import StructuredNarrativeObject
from cns.errors import GraphCycleError, UnknownNodeError
from cns.ingestion.document import DESCRIPTIVE_KEYS, Document
from cns.ingestion.model import Extraction
from cns.logging_setup import get_logger
from cns.ports import Embedder

log = get_logger(__name__)


def sno_id_for(document_id: str, extractor_tag: str) -> str:
    """Deterministic SNO id of a document under an extractor (``name@version``)."""
    return stable_id("sno", document_id, extractor_tag)


def _metadata(document: Document, extraction: Extraction, backends: dict[str, str]) -> dict[str, Any]:
    meta: dict[str, Any] = {k: document.metadata[k] for k in DESCRIPTIVE_KEYS if k in document.metadata}
    extra = {k: v for k, v in document.metadata.items() if k not in DESCRIPTIVE_KEYS}
    meta.update(
        {
            "source": document.source,
            "document_id": document.document_id,
            "char_count": document.char_count,
            "extractor": {"name": extraction.extractor, "version": extraction.extractor_version},
            "model_backends": dict(backends),
            "timings_ms": dict(extraction.timings_ms),
            "extraction": dict(extraction.notes),
        }
    )
    if extraction.hypothesis_span is not None:
        meta["hypothesis_span"] = list(extraction.hypothesis_span)
    if extra:
        meta["document_metadata"] = extra
    if "extractor_fallback" in extraction.notes:
        meta["extractor_fallback"] = extraction.notes["extractor_fallback"]
    return meta


def build_sno(
    document: Document,
    extraction: Extraction,
    *,
    sno_id: str,
    embedder: Embedder,
    embedding_dim: int | None,
    backends: dict[str, str],
) -> StructuredNarrativeObject:
    """The SNO for ``document``; ``H`` is the extraction's vector or a fresh embedding of the hypothesis."""
    sno = StructuredNarrativeObject(
        extraction.hypothesis, sno_id=sno_id, metadata=_metadata(document, extraction, backends)
    )
    vector = extraction.hypothesis_vector
    if vector is None:
        vector = embedder.encode([extraction.hypothesis])[0]
    sno.set_embedding(vector, expected_dim=embedding_dim)
    for claim in extraction.claims:
        meta = dict(claim.metadata)
        if claim.span is not None:
            meta["span"] = list(claim.span)
        meta["evidence_keys"] = extraction.grounding.get(claim.claim_id, [])
        sno.add_claim(
            claim.text, claim.claim_type, claim_id=claim.claim_id, confidence=claim.confidence, metadata=meta
        )
    sno.root.metadata["evidence_keys"] = extraction.grounding.get(ROOT_ID, [])
    if extraction.hypothesis_span is not None:
        sno.root.metadata["span"] = list(extraction.hypothesis_span)
    skipped = 0
    for edge in extraction.edges:
        try:
            sno.add_reasoning_edge(
                edge.source, edge.target, edge.relation, edge.strength, metadata={"basis": edge.basis}
            )
        except (GraphCycleError, UnknownNodeError) as exc:
            skipped += 1
            log.debug(
                "ingestion.edge_skipped",
                sno_id=sno_id,
                source=edge.source,
                target=edge.target,
                reason=type(exc).__name__,
            )
    for item in extraction.evidence:
        sno.add_evidence(item)
    sno.metadata["extraction"]["skipped_edges"] = skipped
    return sno
