"""Narrative-level opposition: hypothesis + claims + stance toward shared evidence, topic-gated."""

from __future__ import annotations

import numpy as np
import pytest

from cns.config.settings import ChiralityConfig
from cns.metrics import narrative_opposition, opposition_scores
from cns.metrics.narrative import key_shared_texts, statements, topic_gate
from cns.metrics.self_contrast import MAX_SELF_PAIRS, self_pairs
from cns.testing.fakes import HashEmbedder, RuleNLI
from tests.conftest import make_sno

#: word-hash vectors put same-topic texts at lower cosines than MiniLM does (the default gate
#: (0.5, 0.6) is measured on MiniLM); this gate keeps the same meaning for the hash embedder
HASH_GATE = ChiralityConfig(topic_gate=(0.1, 0.3))


@pytest.fixture
def embedder() -> HashEmbedder:
    return HashEmbedder(128)


def tags_debate(embedder: HashEmbedder) -> dict[str, object]:
    """Two sides of one question whose hypotheses share almost no words; their claims clash."""
    pro = make_sno(
        "Schools should adopt electronic tags for pupils.",
        ["Electronic tags increase pupil safety on school trips.", "Tagging is safe and cheap."],
        embedder=embedder,
        sno_id="pro",
    )
    pro2 = make_sno(
        "Pupil tracking protects children.",
        ["Electronic tags increase pupil safety in crowds.", "Tagging is safe for every child."],
        embedder=embedder,
        sno_id="pro2",
    )
    con = make_sno(
        "Tracking children treats them like cattle.",
        ["Electronic tags decrease pupil safety on school trips.", "Tagging is dangerous for privacy."],
        embedder=embedder,
        sno_id="con",
    )
    other = make_sno(
        "Volcanic ash grounds aircraft over the Atlantic.",
        ["Ash clouds are not safe for jet engines.", "Airlines reroute flights around eruptions."],
        embedder=embedder,
        sno_id="ash",
    )
    return {"pro": pro, "pro2": pro2, "con": con, "other": other}


def test_claims_reveal_opposite_sides_whose_hypotheses_share_few_words(embedder: HashEmbedder) -> None:
    d = tags_debate(embedder)
    nli = RuleNLI()
    # the hypotheses alone: no shared words, no negation — the sentence method sees no opposition
    old = opposition_scores([(d["pro"].central_hypothesis, d["con"].central_hypothesis)], nli=nli)  # type: ignore[attr-defined]
    assert old[0] < 0.2
    result = narrative_opposition(
        [(d["pro"], d["con"]), (d["pro"], d["pro2"]), (d["pro"], d["other"])],
        nli=nli,
        embedder=embedder,  # type: ignore[list-item]
        config=HASH_GATE,
    )
    opposite, same, unrelated = result.scores.tolist()
    assert opposite > 0.3
    assert same < opposite - 0.2  # same side: the claims entail each other, pushing the score down
    assert unrelated == 0.0  # topic gate: different topics are never opposed
    assert result.details[0]["claims"] >= 0.5  # top-3 mean: two clashing claim pairs of 0.75, one 0


def test_symmetric_bounded_and_deterministic(embedder: HashEmbedder) -> None:
    d = tags_debate(embedder)
    snos = [d["pro"], d["pro2"], d["con"], d["other"]]
    pairs = [(a, b) for a in snos for b in snos if a is not b]
    first = narrative_opposition(pairs, nli=RuleNLI(), embedder=embedder).scores  # type: ignore[arg-type]
    again = narrative_opposition(pairs, nli=RuleNLI(), embedder=embedder).scores  # type: ignore[arg-type]
    assert np.array_equal(first, again)
    assert np.all((first >= 0) & (first <= 1))
    flipped = narrative_opposition([(b, a) for a, b in pairs], nli=RuleNLI(), embedder=embedder).scores  # type: ignore[arg-type]
    assert first == pytest.approx(flipped, abs=1e-12)
    # without an embedder (word-overlap selection, stored embeddings for the gate) still symmetric
    plain = narrative_opposition(pairs, nli=RuleNLI()).scores  # type: ignore[arg-type]
    plain_flipped = narrative_opposition([(b, a) for a, b in pairs], nli=RuleNLI()).scores  # type: ignore[arg-type]
    assert plain == pytest.approx(plain_flipped, abs=1e-12)


def test_one_batch_one_call_and_bounded_pairs(embedder: HashEmbedder) -> None:
    d = tags_debate(embedder)
    many = make_sno(
        "Tagging works.", [f"Electronic tags help case {i}." for i in range(30)], embedder=embedder
    )
    nli = RuleNLI()
    cfg = ChiralityConfig(
        max_claims_per_side=20, statement_pairs=8, max_shared_evidence=1, topic_gate=HASH_GATE.topic_gate
    )
    result = narrative_opposition(
        [(many, d["con"]), (d["pro"], d["con"])], nli=nli, embedder=embedder, config=cfg
    )  # type: ignore[list-item]
    assert nli.calls == 1
    # both directions: 8 statement pairs per candidate, and each narrative's own pairs once
    own = sum(2 * len(self_pairs(statements(s, 20))) for s in (many, d["con"], d["pro"]))
    assert own == 2 * (MAX_SELF_PAIRS + 3 + 3)  # the long narrative's own pairs are capped
    assert result.nli_pairs == nli.pairs_seen <= 2 * (2 * 8) + own
    assert all(detail["statement_pairs"] == 8 for detail in result.details)


def test_pairs_the_topic_gate_closes_cost_no_model_call(embedder: HashEmbedder) -> None:
    d = tags_debate(embedder)
    nli = RuleNLI()
    result = narrative_opposition([(d["pro"], d["other"])], nli=nli, embedder=embedder, config=HASH_GATE)  # type: ignore[list-item]
    assert result.scores.tolist() == [0.0] and result.details[0]["gate"] == 0.0
    assert nli.pairs_seen == 0 and result.nli_pairs == 0
    mixed = narrative_opposition(
        [(d["pro"], d["other"]), (d["pro"], d["con"])],
        nli=nli,
        embedder=embedder,
        config=HASH_GATE,  # type: ignore[list-item]
    )
    assert mixed.scores[1] > 0.3 and mixed.nli_pairs == nli.pairs_seen > 0


def test_opposite_stance_toward_shared_evidence_adds_opposition(embedder: HashEmbedder) -> None:
    shared = ("The trial found fewer lost pupils.", "doi:10.1/trial")
    a = make_sno("Tags work.", ["The trial found fewer lost pupils."], [shared], embedder=embedder)
    b = make_sno("Tags fail.", ["The trial found no fewer lost pupils."], [shared], embedder=embedder)
    cfg = ChiralityConfig(evidence_weight=1.0)
    assert key_shared_texts(a, b) == [(shared[0], shared[0])]
    with_evidence = narrative_opposition([(a, b)], nli=RuleNLI(), embedder=embedder, config=cfg)
    without = narrative_opposition([(a, b)], nli=RuleNLI(), embedder=embedder, config=cfg, shared=[[]])
    assert with_evidence.details[0]["evidence"] > 0.3  # A entailed, B contradicted by the shared item
    assert with_evidence.scores[0] > without.scores[0]


def test_statements_and_gate_helpers() -> None:
    sno = make_sno("H.", ["c1", "c1", "c2", "c3"])
    assert statements(sno, 2) == ["H.", "c1", "c2"]
    assert topic_gate(0.05, 0.1, 0.3) == 0.0 and topic_gate(0.5, 0.1, 0.3) == 1.0
    assert topic_gate(0.2, 0.1, 0.3) == pytest.approx(0.5)


def test_gate_bounds_are_validated() -> None:
    from cns.config import CNSConfig
    from cns.errors import ConfigError

    with pytest.raises(ConfigError, match="topic_gate"):
        CNSConfig(chirality={"topic_gate": [0.5, 0.2]})
