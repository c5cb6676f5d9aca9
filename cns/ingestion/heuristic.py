"""The offline, deterministic extractor: thesis, claims, typed edges and linked evidence.

Pipeline per document (each stage timed into ``Extraction.timings_ms``):

1. segment into sentences with offsets; find the reference list and parse its entries;
2. find citations in every body sentence and resolve them against the reference list;
3. embed the candidate sentences once (the hypothesis vector ``H`` is reused from this batch);
4. score sentences (:mod:`cns.ingestion.scoring`) → the hypothesis and up to ``max_claims`` claims;
5. ground every claim in its own sentence, its best neighbouring sentence and its citations;
6. type edges (:mod:`cns.ingestion.edges`) from connectives and NLI — in the same NLI call as the
   grounding pairs evaluation will need, when a ``pair_planner`` says which.

The same input, embedder and NLI give the same extraction, byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cns.config.extraction import ExtractionConfig
from cns.core.evidence import EvidenceItem
from cns.core.graph import ROOT_ID
from cns.errors import IngestionError
from cns.ingestion.analysis import DocumentAnalysis, analyse, cap_sources, citation_evidence
from cns.ingestion.boilerplate import is_standalone_line, word_count
from cns.ingestion.cues import ARGUMENT_MARKERS, COUNTER_CUES, count_present, leading_connective
from cns.ingestion.document import Document
from cns.ingestion.edges import EdgeNode, build_edges
from cns.ingestion.evidence import citation_item, sentence_item
from cns.ingestion.markup import strip_markup
from cns.ingestion.model import ExtractedClaim, Extraction, StageTimer
from cns.ingestion.scoring import SentenceScore, hypothesis_cue, is_candidate, score_sentences
from cns.ingestion.segment import Sentence
from cns.ports import Embedder, NLIModel

HEURISTIC_VERSION = "1.0"
_ROLE_TYPES = {
    "premise": "premise",
    "conclusion": "intermediate_conclusion",
    "contrast": "counterpoint",
    "explains": "explanation",
    "generalizes": "generalization",
}


#: The heuristic extractor's settings are the ``extraction.*`` section of the configuration; the
#: old name stays for callers that build them directly (``ExtractorSettings(max_claims=3)``).
ExtractorSettings = ExtractionConfig


#: ``(hypothesis, claim texts, evidence) -> NLI pairs`` that a later stage will ask about (the
#: grounding critic's :meth:`~cns.critics.grounding.GroundingCritic.plan_pairs`).
PairPlanner = Callable[[str, list[str], list[EvidenceItem]], list[tuple[str, str]]]


class HeuristicExtractor:
    """Cue phrases + embedding centrality + discourse markers + NLI, no LLM.

    ``pair_planner``, when given, names NLI pairs that evaluation will need; they are judged in the
    same call as the edge pairs, which only pays off with a memoising NLI model (ingestion wraps its
    models in a :class:`~cns.models.session.ModelSession` and passes the grounding critic's plan).
    """

    name = "heuristic"
    version = HEURISTIC_VERSION

    def __init__(
        self,
        embedder: Embedder,
        nli: NLIModel | None = None,
        settings: ExtractionConfig | None = None,
        *,
        pair_planner: PairPlanner | None = None,
    ) -> None:
        self.embedder = embedder
        self.nli = nli
        self.settings = settings or ExtractionConfig()
        self.pair_planner = pair_planner

    def _candidates(self, document: Document, analysis: DocumentAnalysis) -> list[Sentence]:
        cfg = self.settings

        def ok(s: Sentence, min_words: int) -> bool:
            standalone = is_standalone_line(document.text, s.start, s.end)
            return is_candidate(
                s, min_words=min_words, max_words=cfg.max_words, title=document.title, standalone=standalone
            )

        found = [s for s in analysis.body if ok(s, cfg.min_words)]
        if not found:  # short texts: any statement that is not a title or page furniture
            found = [s for s in analysis.body if ok(s, 2)]
        if not found:
            found = [s for s in analysis.body if not s.is_heading and word_count(s.text) >= 2]
        if not found:
            # a text that is one short unpunctuated line (a title, a slogan, a Thai or Chinese
            # phrase without a full stop) is a heading to the segmenter, or it is all "references":
            # the line with the most words states the most; whatever the API accepts must extract
            worded = [s for s in analysis.body if word_count(s.text) >= 1] or [
                s for s in analysis.sentences if word_count(s.text) >= 1
            ]
            found = sorted(worded, key=lambda s: (-word_count(s.text), s.index))[:1]
        if not found:
            raise IngestionError(
                "document has no words (only punctuation, symbols or emoji)"
                if word_count(document.text) == 0
                else "document has no sentence that could state a hypothesis"
            )
        if len(found) <= cfg.max_sentences:
            return found
        # Long document: embed only the sentences with the strongest cheap signals (cues, markers,
        # citations, opening/closing position) so cost stays bounded and the conclusion is not cut off.
        last = found[-1].start or 1

        def cheap(s: Sentence) -> float:
            rel = s.start / last
            return (
                hypothesis_cue(s.text)[0]
                + 0.3 * len(count_present(s.text, ARGUMENT_MARKERS))
                + (0.5 if analysis.citations.get(s.index) else 0.0)
                + (0.5 if rel < 0.05 or rel > 0.95 else 0.0)
            )

        keep = sorted(range(len(found)), key=lambda i: (-cheap(found[i]), i))[: cfg.max_sentences]
        return [found[i] for i in sorted(keep)]

    def _select_claims(self, scores: list[SentenceScore], hyp: int, vectors: np.ndarray) -> list[int]:
        cfg = self.settings
        ranked = sorted(
            (i for i in range(len(scores)) if i != hyp and scores[i].claim >= cfg.min_claim_score),
            key=lambda i: (-scores[i].claim, i),
        )
        chosen: list[int] = []

        def take(order: list[int], limit: int) -> None:
            for i in order:
                if len(chosen) >= limit:
                    return
                if (
                    i in chosen
                    or float(vectors[i] @ vectors[hyp]) > 0.95
                    or any(float(vectors[i] @ vectors[j]) > 0.95 for j in chosen)
                ):
                    continue  # a near-copy of the thesis or of a chosen claim adds nothing
                chosen.append(i)

        take(ranked, cfg.max_claims)
        if len(chosen) < cfg.min_claims:  # below the cue threshold: the best of the rest
            rest = sorted((i for i in range(len(scores)) if i != hyp), key=lambda i: (-scores[i].claim, i))
            take(rest, min(cfg.min_claims, cfg.max_claims))
        return sorted(chosen)

    def _neighbours(self, i: int, candidates: list[Sentence], vectors: np.ndarray) -> list[int]:
        cfg = self.settings
        window = [
            j
            for j in range(len(candidates))
            if j != i
            and abs(candidates[j].index - candidates[i].index) <= cfg.neighbour_window
            and candidates[j].paragraph == candidates[i].paragraph
        ]
        best = max(window, key=lambda j: (float(vectors[i] @ vectors[j]), -j), default=None)
        if best is None or float(vectors[i] @ vectors[best]) < cfg.neighbour_min_similarity:
            return []
        return [best]

    def extract(self, document: Document) -> Extraction:
        timer = StageTimer()
        with timer.stage("segment"):
            analysis = analyse(document)
            candidates = self._candidates(document, analysis)
        with timer.stage("embed"):
            title = document.title
            # link and markup syntax is noise for the embedder and must not reach the hypothesis
            statements = [strip_markup(s.text) or s.text for s in candidates]
            texts = statements + ([title] if title else [])
            encoded = self.embedder.encode(texts)
            vectors = encoded[: len(candidates)]
            title_vec = encoded[len(candidates)] if title else None
        with timer.stage("score"):
            scores = [
                SentenceScore(
                    s, analysis.sections.get(s.index, ""), has_citation=bool(analysis.citations.get(s.index))
                )
                for s in candidates
            ]
            body_end = (
                analysis.references_start if analysis.references_start is not None else len(document.text)
            )
            score_sentences(scores, vectors, title_vec, body_end)
            hyp = max(range(len(scores)), key=lambda i: (scores[i].hypothesis, -i))
            chosen = self._select_claims(scores, hyp, vectors)
        hypothesis = statements[hyp]
        claims, nodes = self._claims(scores, chosen, candidates[hyp], hypothesis)
        with timer.stage("evidence"):
            # before the edges (it does not depend on them) so the grounding pairs can ride along
            evidence, grounding = self._evidence(document, analysis, candidates, vectors, hyp, chosen, claims)
            evidence, evidence_dropped = cap_sources(evidence, self.settings.max_evidence_sources)
        with timer.stage("edges"):
            planned = (
                self.pair_planner(hypothesis, [c.text for c in claims], evidence)
                if self.pair_planner is not None and self.nli is not None
                else []
            )
            edges, opposing, skipped = build_edges(
                hypothesis, nodes, self.nli, policy=self.settings.nli, prefetch=planned
            )
        for claim in claims:
            if claim.claim_id in opposing:
                claim.claim_type = "counterclaim"
        return Extraction(
            hypothesis=hypothesis,
            claims=claims,
            edges=edges,
            evidence=evidence,
            grounding=grounding,
            extractor=self.name,
            extractor_version=self.version,
            hypothesis_span=(candidates[hyp].start, candidates[hyp].end),
            hypothesis_vector=np.asarray(vectors[hyp], dtype=np.float32),
            timings_ms=timer.timings,
            notes={
                "sentences": len(analysis.sentences),
                "candidates": len(candidates),
                "references": len(analysis.resolver.references),
                "skipped_cycle_edges": skipped,
                "hypothesis_score": round(scores[hyp].hypothesis, 4),
                "hypothesis_cues": scores[hyp].cues,
                **({"evidence_dropped": evidence_dropped} if evidence_dropped else {}),
            },
        )

    def _claims(
        self,
        scores: list[SentenceScore],
        chosen: list[int],
        hyp_sentence: Sentence,
        hypothesis: str,
    ) -> tuple[list[ExtractedClaim], list[EdgeNode]]:
        claims: list[ExtractedClaim] = []
        nodes = [EdgeNode(ROOT_ID, hypothesis, hyp_sentence.index)]
        for k, i in enumerate(chosen, start=1):
            s = scores[i].sentence
            # claims keep their wording and citation markers; link syntax and URLs go (the links are
            # evidence items of their own, read from the raw sentence), as for the hypothesis
            text = strip_markup(s.text) or s.text
            connective = leading_connective(text)
            claim_id = f"claim_{k}"
            claims.append(
                ExtractedClaim(
                    claim_id=claim_id,
                    text=text,
                    claim_type=_ROLE_TYPES.get(connective[1], "supporting_claim")
                    if connective
                    else "supporting_claim",
                    span=(s.start, s.end),
                    confidence=round(min(1.0, max(0.05, scores[i].claim)), 4),
                    metadata={
                        "sentence_index": s.index,
                        "score": round(scores[i].claim, 4),
                        "cues": scores[i].cues[:8],
                        "section": scores[i].section,
                    },
                )
            )
            counter = bool(count_present(text, COUNTER_CUES)) or (
                connective is not None and connective[1] == "contrast"
            )
            nodes.append(EdgeNode(claim_id, text, s.index, connective, counter))
        nodes.sort(key=lambda n: n.index)
        return claims, nodes

    def _evidence(
        self,
        document: Document,
        analysis: DocumentAnalysis,
        candidates: list[Sentence],
        vectors: np.ndarray,
        hyp: int,
        chosen: list[int],
        claims: list[ExtractedClaim],
    ) -> tuple[list[EvidenceItem], dict[str, list[str]]]:
        items: list[EvidenceItem] = []
        grounding: dict[str, list[str]] = {}
        ids = [ROOT_ID] + [c.claim_id for c in claims]
        for claim_id, i in zip(ids, [hyp, *chosen], strict=True):
            own = [sentence_item(document, candidates[i], "claim_sentence")]
            own += [
                sentence_item(document, candidates[j], "neighbour")
                for j in self._neighbours(i, candidates, vectors)
            ]
            for j in (i - 1, i, i + 1):
                if 0 <= j < len(candidates) and abs(candidates[j].index - candidates[i].index) <= 1:
                    own += [
                        citation_item(document, candidates[j], c)
                        for c in analysis.citations.get(candidates[j].index, [])
                    ]
            items.extend(own)
            grounding[claim_id] = list(dict.fromkeys(item.key for item in own))
        items.extend(citation_evidence(document, analysis, uncited=self.settings.include_uncited_references))
        return items, grounding
