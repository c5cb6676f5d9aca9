"""Judging pair candidates a few at a time, so a watched pair search can say how far it has got.

The search sends each stage's candidates to the model in one call: the cheapest way when nobody
is watching (the service's sweep). A person at the CLI watches minutes pass on a large corpus, so
when a progress callback is given the candidates of a stage are judged :data:`PROGRESS_CHUNK` at a
time and the callback hears after each chunk. The scores are those of one call: each candidate
is judged on its own texts (the NLI cache then holds the same judgements either way).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from cns.config.settings import ChiralityConfig
from cns.core.progress import ProgressCallback
from cns.core.sno import StructuredNarrativeObject
from cns.pairs.conflicts import conflict_points
from cns.pairs.scoring import Judged, PairMatches, candidate_opposition
from cns.pairs.types import ConflictPoint
from cns.ports import Embedder, NLIModel

#: candidates per model call while a progress callback watches (about 24 NLI pairs each)
PROGRESS_CHUNK = 8


@dataclass
class StepCounter:
    """One step of a watched search: its running count, reported to ``progress`` as it moves."""

    step: str
    progress: ProgressCallback
    total: int | None = None
    done: int = 0

    def start(self, total: int | None) -> None:
        self.total, self.done = total, 0
        self.progress(self.step, 0, total)

    def advance(self, units: int) -> None:
        self.done += units
        self.progress(self.step, self.done, self.total)

    def finish(self) -> None:
        """End the step at its count (a search that stops early did fewer units than planned)."""
        if self.total != self.done:
            self.total = self.done
            self.progress(self.step, self.done, self.done)


def judge_candidates(
    a: np.ndarray,
    b: np.ndarray,
    judge: Callable[[np.ndarray, np.ndarray], Judged],
    counter: StepCounter | None,
) -> Judged:
    """``judge(a, b)`` in one call, or chunk by chunk with ``counter`` told after each."""
    if counter is None or a.shape[0] <= PROGRESS_CHUNK:
        judged = judge(a, b)
        if counter is not None:
            counter.advance(int(a.shape[0]))
        return judged
    parts: list[Judged] = []
    for start in range(0, a.shape[0], PROGRESS_CHUNK):
        end = min(a.shape[0], start + PROGRESS_CHUNK)
        parts.append(judge(a[start:end], b[start:end]))
        counter.advance(end - start)
    return Judged(
        np.concatenate([p.opposition for p in parts]),
        sum(p.nli_pairs for p in parts),
        np.concatenate([p.relevance for p in parts]),
    )


def opposition_judge(
    snos: Sequence[StructuredNarrativeObject],
    *,
    config: ChiralityConfig,
    nli: NLIModel | None,
    embedder: Embedder | None,
    facts: PairMatches | None = None,
) -> Callable[[np.ndarray, np.ndarray], Judged]:
    """:func:`~cns.pairs.scoring.candidate_opposition` over fixed narratives and models."""

    def judge(a: np.ndarray, b: np.ndarray) -> Judged:
        return candidate_opposition(snos, a, b, config=config, nli=nli, embedder=embedder, facts=facts)

    return judge


def conflicts_with_progress(
    pairs: Sequence[tuple[StructuredNarrativeObject, StructuredNarrativeObject]],
    *,
    nli: NLIModel,
    threshold: float,
    top: int,
    max_claims_per_side: int,
    counter: StepCounter | None,
) -> list[list[ConflictPoint]]:
    """:func:`~cns.pairs.conflicts.conflict_points` of every pair, pair by pair when watched."""

    def points(
        chunk: Sequence[tuple[StructuredNarrativeObject, StructuredNarrativeObject]],
    ) -> list[list[ConflictPoint]]:
        return conflict_points(
            chunk, nli=nli, threshold=threshold, top=top, max_claims_per_side=max_claims_per_side
        )

    if counter is None:
        return points(pairs)
    counter.start(len(pairs))
    found: list[list[ConflictPoint]] = []
    for pair in pairs:
        found += points([pair])
        counter.advance(1)
    return found
