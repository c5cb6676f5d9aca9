"""LLM extraction (a JSON answer against a schema), validated hard and backed by the heuristic
extractor (docs/design-notes.md#structured-llm-output).

The LLM proposes ``{hypothesis, claims, edges, evidence}``; this module checks that the answer
parses and matches the schema, that ids are unique and known, that relations are valid, that the
edges form a DAG, that no text is blank or unstorable, and that every quote really occurs in the
document (quotes that do not are dropped, counted, and never become evidence). Any failure — transport error, unparseable JSON,
schema violation, cycle — falls back to the heuristic extractor and records the reason in
``metadata["extractor_fallback"]``, so an LLM outage degrades quality, never availability.
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from cns.core.evidence import EvidenceItem
from cns.core.graph import ROOT_ID, RelationType
from cns.core.storable import json_problem
from cns.errors import CNSError, LLMResponseError
from cns.ingestion.analysis import DocumentAnalysis, analyse, cap_sources, citation_evidence
from cns.ingestion.document import Document
from cns.ingestion.evidence import citation_item, span_item
from cns.ingestion.heuristic import HeuristicExtractor
from cns.ingestion.llm_prompt import build_messages, response_schema
from cns.ingestion.markup import strip_markup
from cns.ingestion.model import ExtractedClaim, ExtractedEdge, Extraction, StageTimer
from cns.ingestion.quotes import find_quote
from cns.logging_setup import get_logger
from cns.models.json_output import extract_json_object, validate_json
from cns.ports import LLMClient

log = get_logger(__name__)

LLM_EXTRACTOR_VERSION = "1.0"


def _problems_text(problems: list[str]) -> str:
    return "; ".join(problems[:5]) + (f" (+{len(problems) - 5} more)" if len(problems) > 5 else "")


def _normalise(data: dict[str, Any]) -> dict[str, Any]:
    """Lower-case relation names and strip ids before validation (harmless model variance)."""
    for edge in data.get("edges") or []:
        if isinstance(edge, dict):
            for key in ("src", "tgt", "relation"):
                if isinstance(edge.get(key), str):
                    edge[key] = edge[key].strip().lower() if key == "relation" else edge[key].strip()
    return data


def _check_graph(data: dict[str, Any]) -> list[str]:
    ids = [str(c["id"]) for c in data["claims"]]
    problems = [f"duplicate claim id {i!r}" for i in sorted({i for i in ids if ids.count(i) > 1})]
    if ROOT_ID in ids:
        problems.append("a claim may not use the reserved id 'root'")
    known = set(ids) | {ROOT_ID}
    graph: nx.DiGraph[str] = nx.DiGraph()
    for edge in data["edges"]:
        src, tgt = edge["src"], edge["tgt"]
        if src not in known or tgt not in known:
            problems.append(f"edge {src!r} -> {tgt!r} names an unknown claim id")
        elif src == ROOT_ID:
            problems.append("the root (hypothesis) is the conclusion; it cannot be an edge source")
        else:
            graph.add_edge(src, tgt)
    if not nx.is_directed_acyclic_graph(graph):
        problems.append(f"edges form a cycle: {nx.find_cycle(graph)}")
    for item in data["evidence"]:
        if item["claim_id"] not in known:
            problems.append(f"evidence names an unknown claim id {item['claim_id']!r}")
    return problems


def _check_content(data: dict[str, Any]) -> list[str]:
    """Blank texts (the schema's ``minLength`` counts spaces) would make an SNO node without
    content, and NUL/unpaired surrogates an SNO the store cannot keep: both failed ``build_sno``
    after the fallback could no longer help (found by fuzzing, issue 8)."""
    problems = ["the hypothesis is blank"] if not data["hypothesis"].strip() else []
    problems += [f"claim {c['id']!r} has blank text" for c in data["claims"] if not c["text"].strip()]
    unstorable = json_problem(data, "answer")
    return [*problems, unstorable] if unstorable else problems


class LLMExtractor:
    """Ask the LLM, validate everything, fall back to the heuristic extractor on any failure."""

    name = "llm"
    version = LLM_EXTRACTOR_VERSION

    def __init__(
        self,
        llm: LLMClient,
        fallback: HeuristicExtractor,
        *,
        max_claims: int = 12,
        max_prompt_chars: int = 24_000,
        temperature: float = 0.1,
        max_tokens: int = 2048,
    ) -> None:
        self.llm = llm
        self.fallback = fallback
        self.max_claims = max_claims
        self.max_prompt_chars = max_prompt_chars
        self.temperature = temperature
        self.max_tokens = max_tokens

    def extract(self, document: Document) -> Extraction:
        try:
            return self._extract(document)
        except CNSError as exc:
            reason = f"{type(exc).__name__}: {exc.message}"
            log.warning(
                "ingestion.extractor_fallback",
                document_id=document.document_id[:16],
                extractor=self.name,
                reason=reason[:300],
            )
            extraction = self.fallback.extract(document)
            extraction.notes["extractor_fallback"] = reason[:1000]
            return extraction

    def _ask(self, document: Document, timer: StageTimer) -> tuple[dict[str, Any], bool]:
        messages, truncated = build_messages(
            document.text, max_claims=self.max_claims, max_chars=self.max_prompt_chars
        )
        schema = response_schema(self.max_claims)
        with timer.stage("llm"):
            raw = self.llm.complete(
                messages, temperature=self.temperature, max_tokens=self.max_tokens, json_schema=schema
            )
        data = _normalise(extract_json_object(raw))
        problems = validate_json(data, schema)
        if not problems:
            problems = _check_graph(data) + _check_content(data)
        if problems:
            raise LLMResponseError(
                f"LLM extraction failed validation: {_problems_text(problems)}", raw=raw[:2000]
            )
        return data, truncated

    def _extract(self, document: Document) -> Extraction:
        timer = StageTimer()
        data, truncated = self._ask(document, timer)
        with timer.stage("segment"):
            analysis = analyse(document)
        with timer.stage("evidence"):
            claims = [self._claim(document, analysis, c) for c in data["claims"]]
            evidence, grounding, dropped = self._quotes(document, analysis, data["evidence"])
            evidence += citation_evidence(
                document, analysis, uncited=self.fallback.settings.include_uncited_references
            )
            evidence, evidence_dropped = cap_sources(evidence, self.fallback.settings.max_evidence_sources)
        edges = [
            ExtractedEdge(e["src"], e["tgt"], RelationType.parse(e["relation"]), 1.0, "llm")
            for e in data["edges"]
        ]
        hyp_span = find_quote(document.text, data["hypothesis"], analysis.sentences)
        return Extraction(
            hypothesis=strip_markup(data["hypothesis"]) or data["hypothesis"].strip(),
            claims=claims,
            edges=edges,
            evidence=evidence,
            grounding=grounding,
            extractor=self.name,
            extractor_version=self.version,
            hypothesis_span=hyp_span,
            timings_ms=timer.timings,
            notes={
                "llm": self.llm.name,
                "dropped_quotes": dropped,
                "prompt_truncated": truncated,
                "sentences": len(analysis.sentences),
                **({"evidence_dropped": evidence_dropped} if evidence_dropped else {}),
            },
        )

    @staticmethod
    def _claim(document: Document, analysis: DocumentAnalysis, claim: dict[str, Any]) -> ExtractedClaim:
        span = find_quote(document.text, claim["text"], analysis.sentences)
        return ExtractedClaim(
            claim_id=str(claim["id"]),
            text=strip_markup(claim["text"]) or claim["text"].strip(),  # the span is found from the raw text
            claim_type=str(claim.get("type") or "supporting_claim"),
            span=span,
            metadata={"verbatim": span is not None},
        )

    @staticmethod
    def _quotes(
        document: Document, analysis: DocumentAnalysis, quotes: list[dict[str, Any]]
    ) -> tuple[list[EvidenceItem], dict[str, list[str]], int]:
        items: list[EvidenceItem] = []
        grounding: dict[str, list[str]] = {}
        dropped = 0
        for quote in quotes:
            span = find_quote(document.text, quote["quote"], analysis.sentences)
            if span is None or not document.text[span[0] : span[1]].strip():
                dropped += 1
                log.info(
                    "ingestion.quote_dropped",
                    document_id=document.document_id[:16],
                    claim_id=quote["claim_id"],
                )
                continue
            own = [span_item(document, span[0], span[1], "llm_quote")]
            for sentence in analysis.body:
                if sentence.start < span[1] and span[0] < sentence.end:
                    own += [
                        citation_item(document, sentence, c)
                        for c in analysis.citations.get(sentence.index, [])
                    ]
            items.extend(own)
            keys = grounding.setdefault(quote["claim_id"], [])
            keys.extend(k for k in dict.fromkeys(i.key for i in own) if k not in keys)
        return items, grounding, dropped


class LLMUnavailableExtractor:
    """The heuristic extractor, used because the up-front check found the LLM unusable.

    It is the heuristic extractor in every respect (name, version, so the SNO id is the offline
    one), and it writes the reason into ``extractor_fallback`` so each SNO says why no LLM was used.
    """

    def __init__(self, heuristic: HeuristicExtractor, reason: str) -> None:
        self.heuristic = heuristic
        self.reason = reason

    @property
    def name(self) -> str:
        return self.heuristic.name

    @property
    def version(self) -> str:
        return self.heuristic.version

    def extract(self, document: Document) -> Extraction:
        extraction = self.heuristic.extract(document)
        extraction.notes["extractor_fallback"] = f"heuristic (llm unavailable: {self.reason})"[:1000]
        return extraction
