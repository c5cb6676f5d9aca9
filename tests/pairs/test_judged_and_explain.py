"""The search's record of every judged pair agrees with the pairs it reports, and `explain_pair`
(what `cns why` prints) names the rule that stopped a pair — the same rule the search applied."""

from __future__ import annotations

import numpy as np
import pytest

from cns.config import CNSConfig
from cns.core.sno import StructuredNarrativeObject
from cns.pairs import search_chiral_pairs
from cns.pairs.explain import NOT_IN_POPULATION, explain_pair
from cns.pairs.verdict import MAX_PAIRS, SIDE_CHECK, checks, first_failure
from cns.testing.fakes import HashEmbedder, RuleNLI
from tests.conftest import make_sno
from tests.pairs.test_pair_search import population
from tests.pairs.test_sides import ScriptedContradiction

THRESHOLD_RULES = {"topic gate", "opposition", "chirality", "entanglement", "potential"}


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("max_pairs", [3, 50])
def test_every_judged_pair_has_the_outcome_the_search_gave_it(seed: int, max_pairs: int) -> None:
    embedder = HashEmbedder(384)
    config = CNSConfig(
        chirality={"method": "nli"},
        synthesis_thresholds={"chirality": 0.2, "entanglement": 0.1, "potential": 0.1},
        population={"max_pairs": max_pairs},
        pair_search={"topic_neighbours": 5},
    )
    result = search_chiral_pairs(
        population(40, seed=seed, embedder=embedder), config, nli=RuleNLI(), embedder=embedder
    )
    reported = {p.key for p in result.pairs}
    assert result.judged and {j.route for j in result.judged} == {"evidence", "opposition"}
    assert reported == {j.key for j in result.judged if j.stopped_by is None}
    for judged in result.judged:
        failed = first_failure(
            checks(judged.route, opposition=judged.opposition, relevance=judged.relevance,
                   chirality=judged.chirality, entanglement=judged.entanglement, potential=judged.potential,
                   thresholds=config.synthesis_thresholds)
        )  # fmt: skip
        if judged.stopped_by in THRESHOLD_RULES:
            assert failed is not None and failed.name == judged.stopped_by and judged.key not in reported
        else:
            assert failed is None
        if judged.stopped_by == MAX_PAIRS:
            assert len(result.pairs) == max_pairs  # only a full list cuts a pair that passed
    by_key = {(j.key, j.route): j for j in result.judged}
    for pair in result.pairs:  # the reported numbers are the judged ones
        judged = by_key[(pair.key, pair.source)]
        assert (judged.chirality, judged.opposition) == pytest.approx((pair.chirality, pair.opposition))


def test_a_pair_dropped_by_the_side_check_is_recorded_and_explained() -> None:
    shared = [("the 2019 survey", "doi:10.1/survey")]
    texts = {"pro": "Tags increase safety.", "con1": "Tags decrease safety.", "con2": "Tags harm pupils."}
    snos = [make_sno(text, evidence=shared, trust=0.9, sno_id=key) for key, text in texts.items()]
    nli = ScriptedContradiction(
        {
            frozenset((texts["pro"], texts["con1"])): 0.8,
            frozenset((texts["pro"], texts["con2"])): 0.7,
            frozenset((texts["con1"], texts["con2"])): 0.5,
        }
    )
    config = CNSConfig(chirality={"method": "nli"})
    result = search_chiral_pairs(snos, config, nli=nli)
    [dropped] = [j for j in result.judged if j.stopped_by == SIDE_CHECK]
    assert dropped.key == ("con1", "con2")
    explained = explain_pair(
        snos[1], snos[2], population=snos, search=result, config=config, nli=nli, embedder=None
    )
    assert not explained.paired and explained.stopped_by == SIDE_CHECK
    assert "side check" in explained.verdict and all(c.passed for c in explained.checks)
    assert [m.key_a for m in explained.matches] == ["doi:10.1/survey"] and explained.entanglement == 1.0
    paired = explain_pair(
        snos[0], snos[1], population=snos, search=result, config=config, nli=nli, embedder=None
    )
    assert paired.paired and paired.verdict == "paired" and paired.route == "evidence"


def test_explain_names_the_failed_threshold_and_an_archived_narrative() -> None:
    shared = [("the survey", "doi:10.1/s")]
    a = make_sno("Coffee increases focus.", evidence=shared, trust=0.9, sno_id="a1")
    b = make_sno("Coffee decreases focus.", evidence=shared, trust=0.03, sno_id="b1")  # too little trust
    config = CNSConfig(chirality={"method": "nli"}, pair_search={"topic_neighbours": 0})
    nli = RuleNLI()
    result = search_chiral_pairs([a, b], config, nli=nli)
    explained = explain_pair(a, b, population=[a, b], search=result, config=config, nli=nli, embedder=None)
    assert not explained.paired and explained.stopped_by == "chirality"
    assert "synthesis_thresholds.chirality" in explained.verdict
    assert explained.judged is None  # its trust bound keeps it from being scored at all
    archived = make_sno("Coffee is irrelevant to focus.", evidence=shared, trust=0.1, sno_id="c1")
    archived.status = archived.status.ARCHIVED
    archived.metadata["archive_reason"] = "trust score 0.1000 is not above the ingest threshold 0.3"
    gone = explain_pair(a, archived, population=[a, b], search=result, config=config, nli=nli, embedder=None)
    assert gone.stopped_by == NOT_IN_POPULATION and "archived (trust score 0.1000" in gone.verdict
    assert "c1" in gone.excluded


def test_narratives_without_shared_evidence_must_be_topic_neighbours() -> None:
    directions = {0: [1.0, 0.0, 0.0], 1: [0.9, 0.436, 0.0], 2: [0.0, 1.0, 0.0], 3: [0.0, 0.5, 0.866]}
    texts = ("zoos should close", "zoos should stay open", "light is a wave", "light is not a wave")
    snos: list[StructuredNarrativeObject] = []
    for i, text in enumerate(texts):
        sno = make_sno(text, trust=0.9, sno_id=f"s{i}")
        vector = np.zeros(384, dtype=np.float32)
        vector[:3] = directions[i]
        sno.set_embedding(vector / np.linalg.norm(vector))
        snos.append(sno)
    config = CNSConfig(chirality={"method": "nli"}, pair_search={"topic_neighbours": 1})
    result = search_chiral_pairs(snos, config, nli=RuleNLI())
    explained = explain_pair(
        snos[0], snos[3], population=snos, search=result, config=config, nli=RuleNLI(), embedder=None
    )
    assert explained.judged is None and explained.route == "opposition"
    assert explained.neighbour_ranks == (2, 3)  # s3 is s0's 2nd nearest (tied with s2); s0 is s3's 3rd
    assert (
        explained.stopped_by == "not topic neighbours" and "pair_search.topic_neighbours" in explained.verdict
    )
