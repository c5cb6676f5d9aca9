"""``extraction.*``: the thresholds of the offline (heuristic) extractor, part of :class:`CNSConfig`.

The defaults were measured on the annotated documents of ``data/gold`` (docs/ingestion.md). The
LLM extractor uses ``max_claims`` too, and falls back to the heuristic one with these settings.
:class:`~cns.ingestion.heuristic.HeuristicExtractor` takes this section directly;
``ExtractorSettings`` (:mod:`cns.ingestion.heuristic`) and ``NLIPolicy``
(:mod:`cns.ingestion.edges`) are the same classes under the names they had before.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EdgeNLIConfig(_Section):
    """When NLI alone may draw an edge between two statements of one document.

    Entailment ≥ ``entail`` draws *supports*. Opposition is treated with more suspicion: a
    document's salient sentences overwhelmingly argue *for* its own thesis, while MNLI-style models
    over-predict contradiction on long, on-topic sentence pairs that are not paraphrases (the
    shipped embedded model even rates some sentences as contradicting themselves). So an opposing
    edge needs ``p_contra ≥ contradict`` and a margin over entailment, **and** a discourse signal
    (a contrast connective or a counter-argument cue such as "critics argue") unless the model
    is near-certain (``p_contra ≥ certain``).
    """

    entail: float = Field(0.5, ge=0, le=1, description="NLI entailment that draws a `supports` edge")
    contradict: float = Field(
        0.7, ge=0, le=1, description="NLI contradiction an opposing edge needs (with a discourse signal)"
    )
    margin: float = Field(
        0.3, ge=0, le=1, description="how far contradiction must exceed entailment for an opposing edge"
    )
    certain: float = Field(
        0.9, ge=0, le=1, description="contradiction that draws an opposing edge without a discourse signal"
    )

    def opposes(self, p_entail: float, p_contra: float, corroborated: bool) -> bool:
        confident = p_contra >= self.contradict and p_contra - p_entail >= self.margin
        return confident and (corroborated or p_contra >= self.certain)


class ExtractionConfig(_Section):
    """Thresholds of the heuristic extractor (thesis, claims, edges, evidence)."""

    max_claims: int = Field(12, ge=1, le=200, description="most claims extracted per document")
    min_claims: int = Field(
        3,
        ge=0,
        le=200,
        description="a thesis with fewer cue-scored claims takes the next best sentences as claims, so "
        "a short argument without discourse markers is not reduced to a bare hypothesis",
    )
    min_claim_score: float = Field(
        0.25, ge=0, le=1, description="claim score a sentence needs to become a claim"
    )
    min_words: int = Field(6, ge=1, description="shortest sentence (in words) that may state a claim")
    max_words: int = Field(90, ge=1, description="longest sentence (in words) that may state a claim")
    max_sentences: int = Field(
        400,
        ge=1,
        description="candidate sentences embedded per document; a longer text keeps those with the "
        "strongest cues, citations and opening/closing position",
    )
    neighbour_window: int = Field(
        2, ge=0, description="sentences either side searched for a claim's supporting neighbour"
    )
    neighbour_min_similarity: float = Field(
        0.35, ge=-1, le=1, description="embedding cosine a neighbour needs to count as a claim's evidence"
    )
    include_uncited_references: bool = Field(
        True, description="keep reference-list entries that no sentence cites as evidence"
    )
    max_evidence_sources: int = Field(
        1000,
        ge=1,
        description="distinct evidence sources kept per document; the rest are dropped and counted in "
        "`metadata.extraction.evidence_dropped` (bounds the work a book-length reference list causes)",
    )
    nli: EdgeNLIConfig = Field(default_factory=EdgeNLIConfig)

    @model_validator(mode="after")
    def _word_range(self) -> ExtractionConfig:
        if self.min_words > self.max_words:
            raise ValueError("extraction.min_words must not exceed extraction.max_words")
        return self
