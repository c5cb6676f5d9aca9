"""Sentence scores for the heuristic extractor: which sentence is the thesis, which are claims.

Three kinds of signal, each in [0, 1], combined with fixed, documented weights:

* **cues** — thesis phrases ("we argue", "in conclusion", "the evidence shows") or, weaker,
  position phrases ("should", "must", "is a good idea", "I believe": a debate text states its
  side this way without announcing it), and argument markers ("because", "however",
  "suggests"), hedges and boosters;
* **position** — the abstract / conclusion sections, or the first and last fifth of the text;
* **centrality** — the mean cosine of a sentence's embedding to all other sentences (the
  sentence the rest of the document is "about"), min-max scaled within the document, plus the
  similarity to the title when there is one.

Cue phrases alone pick the first "we show" sentence (the baseline to beat); centrality alone picks a
bland summary sentence; together they pick the claim the document is built around.  Titles,
bylines and page furniture are not candidates at all (:mod:`cns.ingestion.boilerplate`), and a
sentence that reports the other side's view ("critics argue …") is penalised as a thesis.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from cns.ingestion.boilerplate import is_boilerplate, word_count
from cns.ingestion.cues import (
    ARGUMENT_MARKERS,
    BOOSTERS,
    COUNTER_CUES,
    HEDGES,
    HYPOTHESIS_CUES,
    POSITION_CUES,
    SECTION_THESIS,
    count_present,
    leading_connective,
)
from cns.ingestion.markup import strip_markup
from cns.ingestion.segment import Sentence

_STAT = re.compile(r"\d")
_BYLINE = re.compile(r"^\s*(?:written\s+)?by\s+[A-Z]", re.IGNORECASE)

HYPOTHESIS_WEIGHTS = {"cue": 0.4, "centrality": 0.25, "position": 0.2, "title": 0.15}
CLAIM_WEIGHTS = {"markers": 0.45, "centrality": 0.25, "citation": 0.2, "statistic": 0.1}


@dataclass
class SentenceScore:
    """Scores and the reasons behind them for one candidate sentence."""

    sentence: Sentence
    section: str
    hypothesis: float = 0.0
    claim: float = 0.0
    centrality: float = 0.0
    cues: list[str] = field(default_factory=list)
    has_citation: bool = False


def is_candidate(
    sentence: Sentence,
    *,
    min_words: int,
    max_words: int = 90,
    title: str | None = None,
    standalone: bool = False,
) -> bool:
    """Prose sentences long enough to make a claim; headings, titles, bylines, page furniture
    and questions are not.  Words are counted without link syntax (a bare URL is no claim)."""
    words = word_count(strip_markup(sentence.text))
    return (
        not sentence.is_heading
        and min_words <= words <= max_words
        and not sentence.text.rstrip().endswith(("?", "？"))
        and _BYLINE.match(sentence.text) is None
        and not is_boilerplate(sentence.text, title=title, standalone=standalone)
    )


def centrality(vectors: NDArray[np.float32]) -> NDArray[np.float64]:
    """Mean cosine of each row to the others, min-max scaled to [0, 1] (all 0.5 when uniform)."""
    n = vectors.shape[0]
    if n <= 1:
        return np.full(n, 0.5)
    sims = (vectors @ vectors.T).astype(np.float64)
    mean = (sims.sum(axis=1) - np.diag(sims)) / (n - 1)
    low, high = float(mean.min()), float(mean.max())
    return (mean - low) / (high - low) if high - low > 1e-9 else np.full(n, 0.5)


def position_prior(rel: float, section: str) -> float:
    """1 in thesis sections (abstract, conclusion); otherwise high at the start and the end."""
    if any(name in section for name in SECTION_THESIS):
        return 1.0
    return max(0.0, 1.0 - rel / 0.2, (rel - 0.8) / 0.2)


def hypothesis_cue(text: str) -> tuple[float, list[str]]:
    found = count_present(text, tuple(HYPOTHESIS_CUES))
    return (max((HYPOTHESIS_CUES[p] for p in found), default=0.0), found)


def position_cue(text: str) -> tuple[float, list[str]]:
    """How plainly a sentence takes a position ("X should be banned"), from :data:`POSITION_CUES`."""
    found = count_present(text, tuple(POSITION_CUES))
    return (max((POSITION_CUES[p] for p in found), default=0.0), found)


def score_sentences(
    scores: list[SentenceScore],
    vectors: NDArray[np.float32],
    title_vector: NDArray[np.float32] | None,
    body_length: int,
) -> None:
    """Fill ``hypothesis`` and ``claim`` of every candidate in place.

    ``body_length`` is where the body ends (the reference list starts), so "the last fifth" is the
    conclusion and not the bibliography.
    """
    central = centrality(vectors)
    title_sim = (
        np.clip(vectors @ title_vector, 0.0, 1.0) if title_vector is not None else np.zeros(len(scores))
    )
    tw = HYPOTHESIS_WEIGHTS
    for i, item in enumerate(scores):
        text = item.sentence.text
        thesis, cues = hypothesis_cue(text)
        reported = bool(count_present(text, COUNTER_CUES))
        # "Critics argue that X should …": the position is the critics', not the author's
        stance, stance_cues = position_cue(text) if not reported else (0.0, [])
        cue = max(thesis, stance)
        cues = cues + stance_cues
        rel = item.sentence.start / max(1, body_length)
        connective = leading_connective(text)
        penalty = 0.0
        if item.has_citation:
            penalty += 0.1  # the author's own thesis is rarely a cited statement
        if connective is not None and connective[1] in ("contrast", "premise"):
            penalty += 0.2  # "However, …" / "For example, …" answer another sentence
        if reported:
            penalty += 0.2  # "Critics argue that …" reports the view the author answers
        item.centrality = float(central[i])
        item.hypothesis = (
            tw["cue"] * cue
            + tw["centrality"] * item.centrality
            + tw["position"] * position_prior(rel, item.section)
            + tw["title"] * float(title_sim[i])
            - penalty
        )
        markers = count_present(text, ARGUMENT_MARKERS)
        modality = count_present(text, HEDGES) + count_present(text, BOOSTERS)
        marker_score = min(1.0, 0.3 * len(markers) + 0.15 * len(modality) + (0.5 if connective else 0.0))
        cw = CLAIM_WEIGHTS
        item.cues = cues + markers + modality + ([connective[0]] if connective else [])
        item.claim = (
            cw["markers"] * marker_score
            + cw["centrality"] * item.centrality
            + cw["citation"] * (1.0 if item.has_citation else 0.0)
            + cw["statistic"] * (1.0 if _STAT.search(text) else 0.0)
        )
