"""A watched pair search says how far each stage has got, and finds exactly what an unwatched one finds."""

from __future__ import annotations

import pytest

from cns.config import CNSConfig
from cns.core.progress import PAIR_CONFLICTS, PAIR_EVIDENCE, PAIR_TOPIC, STEPS
from cns.pairs import search_chiral_pairs
from cns.pairs.progress import PROGRESS_CHUNK
from cns.testing.fakes import HashEmbedder, RuleNLI
from tests.pairs.test_pair_search import population


def config() -> CNSConfig:
    return CNSConfig(
        chirality={"method": "nli"},
        synthesis_thresholds={"chirality": 0.2, "entanglement": 0.1, "potential": 0.1},
        population={"max_pairs": 50},
        pair_search={"topic_neighbours": 5},
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_watched_search_reports_every_stage_and_finds_the_same_pairs(seed: int) -> None:
    embedder = HashEmbedder(384)
    snos = population(40, seed=seed, embedder=embedder)
    heard: list[tuple[str, int, int | None]] = []
    watched = search_chiral_pairs(
        snos, config(), nli=RuleNLI(), embedder=embedder, progress=lambda *call: heard.append(call)
    )
    plain = search_chiral_pairs(snos, config(), nli=RuleNLI(), embedder=embedder)

    def scores(result: object) -> list[tuple[object, ...]]:
        return [
            (p.key, round(p.chirality, 9), round(p.opposition, 9), [c.to_dict() for c in p.conflict_points])
            for p in result.pairs  # type: ignore[attr-defined]
        ]

    assert watched.pairs and scores(watched) == scores(plain)
    assert {step for step, _, _ in heard} <= set(STEPS)
    by_step: dict[str, list[tuple[int, int | None]]] = {}
    for step, done, total in heard:
        by_step.setdefault(step, []).append((done, total))
    for step in (PAIR_EVIDENCE, PAIR_TOPIC, PAIR_CONFLICTS):
        calls = by_step[step]
        assert calls[0][0] == 0, step  # every stage starts at 0 …
        done, total = calls[-1]
        assert done == total, step  # … and ends finished
        counts = [d for d, _ in calls]
        assert counts == sorted(counts), step
    # a stage with more candidates than a chunk is reported chunk by chunk, not once at the end
    evidence = by_step[PAIR_EVIDENCE]
    assert evidence[-1][0] == watched.stats.scored_candidates
    if watched.stats.scored_candidates > PROGRESS_CHUNK:
        assert len(evidence) >= 3 and evidence[1][0] == PROGRESS_CHUNK
    assert by_step[PAIR_TOPIC][-1][0] == watched.stats.opposition_candidates
    assert by_step[PAIR_CONFLICTS][-1] == (len(watched.pairs), len(watched.pairs))
