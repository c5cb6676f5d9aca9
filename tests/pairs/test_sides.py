"""Side consistency: opposed pairs must split their question's narratives into two sides."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from cns.config import CNSConfig
from cns.core.evidence import EvidenceItem
from cns.pairs import search as search_module
from cns.pairs import search_chiral_pairs
from cns.pairs.sides import (
    EXACT_LIMIT,
    PLACEMENT_MARGIN,
    _exact,
    _local_search,
    assign_sides,
    place_abstainers,
    same_side,
    side_edges,
    signed_edges,
)
from tests.conftest import make_sno


def cut(side: dict[int, int], edges: list[tuple[int, int, float]]) -> float:
    return sum(w for a, b, w in edges if side[a] != side[b])


def test_one_side_split_in_two_stays_together() -> None:
    # "for" (0) opposes both halves of "against" (1, 2); the halves look mildly opposed too
    sides = assign_sides([(0, 1, 0.3), (0, 2, 0.25), (1, 2, 0.1)])
    assert same_side(sides, 1, 2)
    assert not same_side(sides, 0, 1) and not same_side(sides, 0, 2)


def test_two_questions_are_separate_components_and_unjudged_rows_have_no_side() -> None:
    sides = assign_sides([(0, 1, 0.4), (2, 3, 0.2)])
    assert sides[0][0] != sides[2][0]  # different components
    assert not same_side(sides, 0, 1) and not same_side(sides, 2, 3)
    assert not same_side(sides, 0, 9)  # row 9 was never judged: nothing is known


def test_agreeing_pairs_pull_narratives_together() -> None:
    # two camps of two; within a camp the pair agrees (negative weight)
    edges = [(0, 1, -0.3), (2, 3, -0.2), (0, 2, 0.3), (0, 3, 0.2), (1, 2, 0.25), (1, 3, 0.1)]
    sides = assign_sides(edges)
    assert same_side(sides, 0, 1) and same_side(sides, 2, 3) and not same_side(sides, 0, 2)


def test_exact_is_optimal_and_local_search_is_never_worse_than_all_on_one_side() -> None:
    rng = random.Random(3)
    for _ in range(60):
        n = rng.randint(3, 9)
        edges = [
            (i, j, rng.uniform(-1, 1)) for i, j in itertools.combinations(range(n), 2) if rng.random() < 0.6
        ]
        nodes = sorted({x for a, b, _ in edges for x in (a, b)})
        if len(nodes) < 2:
            continue
        best = _exact(nodes, edges)
        for mask in range(1 << len(nodes)):  # brute force over every assignment
            other = {node: (mask >> k) & 1 for k, node in enumerate(nodes)}
            assert cut(other, edges) <= cut(best, edges) + 1e-9
        local = _local_search(nodes, edges)
        assert cut(local, edges) >= 0.0 - 1e-9  # never worse than leaving everyone on one side
        # local optimum: no single move raises the cut
        for node in nodes:
            flipped = {**local, node: 1 - local[node]}
            assert cut(flipped, edges) <= cut(local, edges) + 1e-9


def test_large_components_use_the_local_search() -> None:
    n = EXACT_LIMIT + 6
    # two camps by parity: cross-camp pairs oppose, same-camp pairs agree
    edges = [(i, j, 0.3 if (i + j) % 2 else -0.2) for i, j in itertools.combinations(range(n), 2)]
    sides = assign_sides(edges)
    for i, j in itertools.combinations(range(n), 2):
        assert same_side(sides, i, j) == ((i + j) % 2 == 0)


class ScriptedContradiction:
    """p_contra per unordered sentence pair, the rest split evenly (a transparent NLI double)."""

    name, version = "scripted", "1"

    def __init__(self, contra: dict[frozenset[str], float]) -> None:
        self.contra = contra

    def predict(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        rows = [[(1 - c) / 2, (1 - c) / 2, c] for c in (self.contra.get(frozenset(p), 0.0) for p in pairs)]
        return np.array(rows, dtype=np.float32).reshape(-1, 3)


@pytest.mark.parametrize("check", [True, False])
def test_search_drops_the_pair_of_two_same_side_halves(check: bool) -> None:
    """Three narratives on one question sharing one source: both halves oppose "for" (0.8, 0.7)
    and the halves' own pair clears the opposition threshold too (0.5) — only the side check
    removes it."""
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
    config = CNSConfig(chirality={"method": "nli"}, pair_search={"side_consistency": check})
    result = search_chiral_pairs(snos, config, nli=nli)
    keys = {p.key for p in result.pairs}
    assert ("con1", "pro") in keys and ("con2", "pro") in keys
    assert (("con1", "con2") in keys) is (not check)
    assert result.stats.same_side_dropped == (1 if check else 0)


def test_halves_of_one_document_are_not_reported_and_both_true_pairs_are() -> None:
    """Narrative method: the halves' strongest claim pairs clash (old score 0.76 against 0.7 for the
    weaker true pair), so the side check used to keep the halves and drop a true pair; measured
    against what each half contradicts itself, the halves are not opposed at all."""
    from tests.metrics.test_self_contrast import halves_scenario

    snos, nli = halves_scenario()
    for sno in snos:
        sno.trust_score = 0.9
        sno.add_evidence(EvidenceItem("the 2019 survey", source_id="doi:10.1/survey"))
    # the three share a source, so the contrast weighs them only when asked to
    config = CNSConfig(chirality={"self_contrast": True, "contrast_shared_evidence": True})
    result = search_chiral_pairs(snos, config, nli=nli)
    assert {p.key for p in result.pairs} == {("con1", "pro"), ("con2", "pro")}
    halves = next(r for r in result.judged if r.key == ("con1", "con2"))
    assert halves.opposition == 0.0 and halves.stopped_by == "opposition"


def test_pairs_that_share_evidence_rest_on_the_side_check_alone() -> None:
    """Turned on, the self contrast still leaves pairs that share evidence alone (on cited essays
    it carries no signal): the halves keep their raw score (0.76 against 0.70 for the weaker true
    pair), and the side check keeps the stronger two of the three."""
    from tests.metrics.test_self_contrast import halves_scenario

    snos, nli = halves_scenario()
    for sno in snos:
        sno.trust_score = 0.9
        sno.add_evidence(EvidenceItem("the 2019 survey", source_id="doi:10.1/survey"))
    result = search_chiral_pairs(snos, CNSConfig(chirality={"self_contrast": True}), nli=nli)
    scores = {r.key: round(r.opposition, 2) for r in result.judged}
    assert scores == {("con1", "con2"): 0.76, ("con1", "pro"): 0.78, ("con2", "pro"): 0.7}
    assert {p.key for p in result.pairs} == {("con1", "con2"), ("con1", "pro")}
    assert result.stats.same_side_dropped == 1


def test_only_narratives_that_take_a_side_vote() -> None:
    # 0 opposes 1; 2 and 3 oppose nobody (2 is judged against 0 and 1, 3 against 2 and off-topic 4)
    judged = [(0, 1, 0.6, 1.0), (0, 2, 0.1, 1.0), (1, 2, 0.1, 1.0), (2, 3, 0.2, 1.0), (3, 4, 0.9, 0.0)]
    assert side_edges(judged, 0.25) == [(0, 1, pytest.approx(0.35))]
    # between two side-takers a low opposition still pulls them together
    judged += [(1, 5, 0.5, 1.0), (0, 5, 0.05, 0.5)]
    assert side_edges(judged, 0.25)[-1] == (0, 5, pytest.approx(-0.1))


@pytest.mark.parametrize("overviews", [1, 3, 6])
def test_overviews_that_take_no_side_do_not_outvote_a_true_pair(overviews: int) -> None:
    """``pro`` opposes ``con`` (0.6); each overview opposes neither (0.1) nor another overview. Each
    overview used to count as a vote that pro and con stand together (weight −0.15 against +0.35
    for the pair), so three overviews dropped the pair."""
    shared = [("the 2019 survey", "doi:10.1/survey")]
    texts = {"pro": "Tags increase safety.", "con": "Tags decrease safety."}
    texts |= {f"view{k}": f"Overview {k} of the tag debate." for k in range(overviews)}
    snos = [make_sno(text, evidence=shared, trust=0.9, sno_id=key) for key, text in texts.items()]
    contra = {frozenset((texts["pro"], texts["con"])): 0.6}
    for k in range(overviews):
        contra |= {frozenset((texts[side], texts[f"view{k}"])): 0.1 for side in ("pro", "con")}
    nli = ScriptedContradiction(contra)
    result = search_chiral_pairs(snos, CNSConfig(chirality={"method": "nli"}), nli=nli)
    assert [p.key for p in result.pairs] == [("con", "pro")]
    assert result.stats.same_side_dropped == 0


def test_a_narrative_that_takes_no_side_joins_the_one_it_opposes_least() -> None:
    # 0 and 1 take sides; 2 opposes nobody, but 1 much less than 0; 3 leans too little to place;
    # 4 was judged only against 2, which has no side of its own yet; 5 is about another question
    judged = [(0, 1, 0.7, 1.0), (0, 2, 0.2, 1.0), (1, 2, 0.0, 1.0), (0, 3, 0.2, 1.0), (1, 3, 0.18, 1.0)]
    judged += [(2, 4, 0.1, 1.0), (0, 5, 0.0, 0.0)]
    voters = assign_sides(side_edges(judged, 0.25))
    assert set(voters) == {0, 1}
    placed = place_abstainers(voters, signed_edges(judged, 0.25))
    assert placed[0] == voters[0] and placed[1] == voters[1]  # the voters never move
    assert same_side(placed, 1, 2) and not same_side(placed, 0, 2)
    assert 3 not in placed and 4 not in placed and 5 not in placed
    # the lean of 3 is 0.02 in opposition units: below the margin, which side it takes is noise
    assert PLACEMENT_MARGIN > 0.25 - 0.18 - (0.25 - 0.2)


def test_placement_uses_the_question_where_its_edges_weigh_most() -> None:
    voters = {0: (0, 0), 1: (0, 1), 2: (1, 0), 3: (1, 1)}
    # 4 leans to 1's side on question 0 (weights 0.3) and to 3's on question 1 (weights 0.1)
    edges = [(0, 4, -0.05), (1, 4, -0.25), (2, 4, -0.02), (3, 4, -0.08)]
    assert place_abstainers(voters, edges)[4] == (0, 1)


@pytest.mark.parametrize(("halves_vote", "halves_reported"), [(0.0, False), (0.19, True)])
def test_search_drops_a_half_that_took_no_side_from_its_sibling(
    monkeypatch: pytest.MonkeyPatch, halves_vote: float, halves_reported: bool
) -> None:
    """All three pairs clear the thresholds on their raw scores; the side votes (the self-contrasted
    scores in the product) say ``con2`` opposes nobody: 0.2 against ``pro``, ``halves_vote``
    against its sibling half. It used to have no side, so its pair with ``con1`` was reported
    unchecked; now it joins ``con1`` when that is clear, and stays unplaced when it is not."""
    shared = [("the 2019 survey", "doi:10.1/survey")]
    texts = {"pro": "Tags increase safety.", "con1": "Tags decrease safety.", "con2": "Tags harm pupils."}
    snos = [make_sno(text, evidence=shared, trust=0.9, sno_id=key) for key, text in texts.items()]
    raw = {("pro", "con1"): 0.8, ("pro", "con2"): 0.7, ("con1", "con2"): 0.6}
    nli = ScriptedContradiction({frozenset((texts[a], texts[b])): c for (a, b), c in raw.items()})
    votes = {("con1", "pro"): 0.6, ("con2", "pro"): 0.2, ("con1", "con2"): halves_vote}

    def scripted_votes(snos_, judged, config, **_: object) -> tuple[list[tuple[int, int, float, float]], int]:
        def vote(i: int, j: int) -> float:
            return votes[tuple(sorted((snos_[i].sno_id, snos_[j].sno_id)))]  # type: ignore[index]

        return [(i, j, vote(i, j), r) for i, j, _o, r in judged], 0

    monkeypatch.setattr(search_module, "contrasted", scripted_votes)
    result = search_chiral_pairs(snos, CNSConfig(chirality={"method": "nli"}), nli=nli)
    keys = {p.key for p in result.pairs}
    assert ("con1", "pro") in keys and ("con2", "pro") in keys
    assert (("con1", "con2") in keys) is halves_reported
    assert result.stats.same_side_dropped == (0 if halves_reported else 1)
