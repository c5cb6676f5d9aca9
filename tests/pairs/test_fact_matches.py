"""Shared evidence beyond citation keys: items stating the same fact count, with a lower weight."""

from __future__ import annotations

import pytest

from cns.config import CNSConfig
from cns.core.evidence import EvidenceItem
from cns.core.sno import StructuredNarrativeObject
from cns.metrics.shared_facts import entanglement_with_facts, numbers_agree, numbers_in
from cns.pairs import search_chiral_pairs
from cns.pairs.facts import find_fact_matches
from cns.testing.fakes import HashEmbedder, RuleNLI
from tests.conftest import make_sno

FACT_A = "Unemployment rose to 7 percent in 2009 after the crisis."
FACT_B = "After the crisis unemployment rose to 7 percent in 2009."  # same fact, other wording
FACT_WRONG = "After the crisis unemployment rose to 9 percent in 2009."  # same words, other number


def own_sentence(text: str, doc: str) -> EvidenceItem:
    """An item quoting the document itself (no citation), as ingestion makes them."""
    return EvidenceItem(text, source_id=f"doc:{doc}#0-{len(text)}", metadata={"kind": "source_sentence"})


def sno(
    sno_id: str, hypothesis: str, claims: list[str], items: list[EvidenceItem], emb: HashEmbedder
) -> StructuredNarrativeObject:
    s = make_sno(hypothesis, claims, embedder=emb, trust=0.9, sno_id=sno_id)
    for item in items:
        s.add_evidence(item)
    return s


@pytest.fixture
def emb() -> HashEmbedder:
    return HashEmbedder(128)


def config(**matching: object) -> CNSConfig:
    """Fact matching on its own: hypothesis NLI opposition, no topic-neighbour search."""
    return CNSConfig(
        chirality={"method": "nli"},
        synthesis_thresholds={"chirality": 0.05, "entanglement": 0.05, "potential": 0.05},
        evidence_matching={"similarity": 0.5, **matching},
        pair_search={"topic_neighbours": 0},
    )


def test_numbers_must_agree() -> None:
    assert numbers_in("rose 1,000 to 5.0 and 7.25%") == frozenset({"1000", "5", "7.25"})
    assert numbers_agree(FACT_A, FACT_B) and not numbers_agree(FACT_A, FACT_WRONG)
    assert numbers_agree("no numbers", "none here")


def test_entanglement_formula_reduces_to_jaccard_and_caps_fact_only_pairs() -> None:
    assert entanglement_with_facts(1, 0, 2, 1, 0.5) == pytest.approx(1 / 4)  # |A|=3, |B|=2, 1 shared
    assert entanglement_with_facts(0, 2, 0, 0, 0.5) == pytest.approx(0.5)
    assert entanglement_with_facts(0, 0, 0, 0, 0.5) == 0.0


def test_documents_without_common_references_pair_through_a_shared_fact(emb: HashEmbedder) -> None:
    a = sno(
        "a",
        "The stimulus increases employment.",
        ["Spending increases jobs."],
        [own_sentence(FACT_A, "a")],
        emb,
    )
    b = sno(
        "b",
        "The stimulus decreases employment.",
        ["Spending decreases jobs."],
        [own_sentence(FACT_B, "b")],
        emb,
    )
    without = search_chiral_pairs([a, b], config(facts=False), nli=RuleNLI(), embedder=emb)
    assert without.pairs == []  # no common key: the key index alone never pairs them
    result = search_chiral_pairs([a, b], config(), nli=RuleNLI(), embedder=emb)
    [pair] = result.pairs
    assert pair.shared_evidence == frozenset()
    [match] = pair.evidence_matches
    assert match.kind == "fact" and match.text_a == FACT_A and match.text_b == FACT_B
    assert match.score >= 0.5
    # a fact match weighs fact_weight (below a key match's 1): E = 0.5 · 1 / 1
    assert pair.entanglement == pytest.approx(0.5)
    assert pair.to_dict()["evidence_matches"][0]["kind"] == "fact"
    assert result.stats.fact_matches == 1 and result.stats.fact_judged_pairs >= 1
    lighter = search_chiral_pairs([a, b], config(fact_weight=0.25), nli=RuleNLI(), embedder=emb)
    assert lighter.pairs[0].entanglement == pytest.approx(0.25)


def test_key_and_fact_matches_are_recorded_with_their_kind(emb: HashEmbedder) -> None:
    cited = EvidenceItem("Smith 2010 survey", source_id="doi:10.1/smith")
    a = sno("a", "The stimulus increases employment.", [], [cited, own_sentence(FACT_A, "a")], emb)
    b = sno("b", "The stimulus decreases employment.", [], [cited, own_sentence(FACT_B, "b")], emb)
    [pair] = search_chiral_pairs([a, b], config(), nli=RuleNLI(), embedder=emb).pairs
    kinds = [(m.kind, m.score) for m in pair.evidence_matches]
    assert kinds[0] == ("key", 1.0) and kinds[1][0] == "fact"
    # one key (weight 1) + one fact (0.5); no unmatched sources: E = 1.5 / 2
    assert pair.entanglement == pytest.approx(0.75)


def test_different_numbers_or_topics_are_not_the_same_fact(emb: HashEmbedder) -> None:
    a = sno("a", "The stimulus increases employment.", [], [own_sentence(FACT_A, "a")], emb)
    wrong = sno("w", "The stimulus decreases employment.", [], [own_sentence(FACT_WRONG, "w")], emb)
    other = sno(
        "o",
        "Volcanic ash grounds aircraft.",
        [],
        [own_sentence("Ash clouds closed 300 airports in 2010.", "o")],
        emb,
    )
    snos = [a, wrong, other]
    cfg = config(similarity=-1.0)  # every item pair is judged: the model, not the filter, must refuse
    assert find_fact_matches(snos, [0, 1, 2], config=cfg, nli=RuleNLI(), embedder=emb) == {}
    assert search_chiral_pairs(snos, cfg, nli=RuleNLI(), embedder=emb).pairs == []


def test_judged_pairs_are_bounded(emb: HashEmbedder) -> None:
    snos = [
        sno(
            f"s{i}",
            f"Claim {i} about jobs.",
            [],
            [own_sentence(f"Jobs fact number {j} here.", f"s{i}") for j in range(6)],
            emb,
        )
        for i in range(6)
    ]
    nli = RuleNLI()
    cfg = config(similarity=-1.0, max_judged_pairs=10)
    find_fact_matches(snos, list(range(6)), config=cfg, nli=nli, embedder=emb)
    assert nli.pairs_seen <= 2 * 10
