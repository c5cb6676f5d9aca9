"""Novelty does not count an opponent or a copy of the same document as lack of novelty."""

from __future__ import annotations

import pytest

from cns.config.settings import NoveltyConfig
from cns.critics.base import EvaluationContext
from cns.critics.novelty import NoveltyCritic
from cns.index.memory import ExactVectorIndex
from cns.testing.fakes import HashEmbedder, RuleNLI
from tests.conftest import make_sno


@pytest.fixture
def emb() -> HashEmbedder:
    return HashEmbedder(128)


def context_of(snos: list, **kwargs: object) -> EvaluationContext:  # type: ignore[type-arg]
    index = ExactVectorIndex(128)
    for s in snos:
        index.add([s.sno_id], s.hypothesis_embedding[None, :])
    by_id = {s.sno_id: s for s in snos}
    return EvaluationContext(reference_index=index, reference_lookup=by_id.get, **kwargs)  # type: ignore[arg-type]


def test_opponent_does_not_zero_novelty(emb: HashEmbedder) -> None:
    pro = make_sno("Coffee increases productivity at work.", embedder=emb, sno_id="pro")
    con = make_sno("Coffee decreases productivity at work.", embedder=emb, sno_id="con")
    far = make_sno("Volcanic ash grounds aircraft over the Atlantic.", embedder=emb, sno_id="far")
    nli = RuleNLI()
    critic = NoveltyCritic(nli=nli, embedder=emb)
    old = NoveltyCritic()  # no NLI: the opponent is the nearest neighbour
    ctx = context_of([pro, con, far])
    before = old.evaluate(pro, ctx)
    after = critic.evaluate(pro, ctx)
    assert before.evidence["nearest"] == "con" and before.sub_scores["novelty"] < 0.35
    assert after.evidence["nearest"] == "far"
    assert after.sub_scores["novelty"] > 0.6 > before.sub_scores["novelty"]
    [skipped] = after.evidence["passed_over"]
    assert skipped["sno_id"] == "con" and skipped["reason"] == "opponent" and skipped["opposition"] >= 0.5
    assert "opponent" in after.explanation
    # switched off: the old behaviour
    off = NoveltyCritic(NoveltyConfig(skip_opponents=False), nli=nli, embedder=emb).evaluate(pro, ctx)
    assert off.evidence["nearest"] == "con"


def test_a_same_side_neighbour_still_counts(emb: HashEmbedder) -> None:
    pro = make_sno("Coffee increases productivity at work.", embedder=emb, sno_id="pro")
    ally = make_sno("Coffee increases productivity at the office.", embedder=emb, sno_id="ally")
    far = make_sno("Volcanic ash grounds aircraft over the Atlantic.", embedder=emb, sno_id="far")
    result = NoveltyCritic(nli=RuleNLI(), embedder=emb).evaluate(pro, context_of([pro, ally, far]))
    assert result.evidence["nearest"] == "ally" and result.evidence["passed_over"] == []


def test_copy_of_the_same_document_is_passed_over(emb: HashEmbedder) -> None:
    pro = make_sno("Coffee increases productivity at work.", embedder=emb, sno_id="pro")
    pro.metadata["document_id"] = "doc1"
    copy = make_sno("Coffee increases productivity at work!", embedder=emb, sno_id="copy")
    copy.metadata["document_id"] = "doc1"
    far = make_sno("Volcanic ash grounds aircraft over the Atlantic.", embedder=emb, sno_id="far")
    result = NoveltyCritic(nli=RuleNLI(), embedder=emb).evaluate(pro, context_of([pro, copy, far]))
    assert result.evidence["nearest"] == "far"
    assert result.evidence["passed_over"] == [{"sno_id": "copy", "reason": "same document"}]


def test_all_neighbours_passed_over_uses_the_farthest_examined(emb: HashEmbedder) -> None:
    pro = make_sno("Coffee increases productivity at work.", embedder=emb, sno_id="pro")
    con = make_sno("Coffee decreases productivity at work.", embedder=emb, sno_id="con")
    critic = NoveltyCritic(NoveltyConfig(neighbours=1), nli=RuleNLI(), embedder=emb)
    result = critic.evaluate(pro, context_of([pro, con]))
    # only one neighbour examined, an opponent: the distance is a lower bound, not "no reference"
    assert result.evidence["nearest"] is None
    assert result.sub_scores["novelty"] == pytest.approx(
        NoveltyCritic().evaluate(pro, context_of([pro, con])).sub_scores["novelty"]
    )


def test_neighbours_beyond_the_first_that_counts_are_not_judged(emb: HashEmbedder) -> None:
    class CountingNLI(RuleNLI):
        def __init__(self) -> None:
            super().__init__()
            self.batches: list[int] = []

        def predict(self, pairs):  # type: ignore[no-untyped-def]
            self.batches.append(len(pairs))
            return super().predict(pairs)

    pro = make_sno("Coffee increases productivity at work.", embedder=emb, sno_id="pro")
    ally = make_sno("Coffee increases productivity at the office.", embedder=emb, sno_id="ally")
    con = make_sno("Coffee decreases productivity at work.", embedder=emb, sno_id="con")
    nli = CountingNLI()
    result = NoveltyCritic(nli=nli, embedder=emb).evaluate(pro, context_of([pro, ally, con]))
    nearest = result.evidence["nearest"]
    assert nearest in ("ally", "con") and result.evidence["passed_over"] == []
    assert len(nli.batches) == 1  # only the nearest neighbour was judged; the search stopped there
