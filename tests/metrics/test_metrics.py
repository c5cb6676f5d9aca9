from __future__ import annotations

import math

import numpy as np
import pytest

from cns.config.settings import ChiralityConfig
from cns.core.sno import StructuredNarrativeObject
from cns.errors import ConfigError
from cns.metrics import (
    blueprint_chirality,
    blueprint_chirality_batch,
    chirality_score,
    entanglement_score,
    jaccard_from_counts,
    opposition_from_probs,
    opposition_scores,
    shared_evidence,
    synthesis_potential,
)
from cns.testing.fakes import HashEmbedder, RuleNLI
from tests.conftest import make_sno


class FixedNLI:
    """Returns a scripted contradiction probability per (premise, hypothesis)."""

    name, version = "fixed", "1"

    def __init__(self, contra: dict[tuple[str, str], float]) -> None:
        self.contra = contra

    def predict(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        rows = []
        for pair in pairs:
            c = self.contra.get(pair, 0.0)
            rows.append([(1 - c) / 2, (1 - c) / 2, c])
        return np.array(rows, dtype=np.float32).reshape(-1, 3)


def test_blueprint_chirality_matches_formula_with_and_without_halving() -> None:
    a = StructuredNarrativeObject("A", hypothesis_embedding=[1.0, 0.0], trust_score=0.9)
    b = StructuredNarrativeObject("B", hypothesis_embedding=[0.6, 0.8], trust_score=0.5)
    cos = 0.6
    assert blueprint_chirality(a, b) == pytest.approx((1 - cos) / 2 * 0.45)
    assert blueprint_chirality(a, b, halve=False) == pytest.approx((1 - cos) * 0.45)
    b.trust_score = None
    assert blueprint_chirality(a, b) == 0.0


def test_blueprint_batch_is_vectorised() -> None:
    h = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    g = np.array([[-1.0, 0.0], [0.0, 1.0], [0.0, 2.0]])
    out = blueprint_chirality_batch(h, g, [1, 1, 0.5], [1, 1, 1])
    assert out == pytest.approx([1.0, 0.0, 0.25])


def test_opposition_is_max_of_both_directions_and_symmetric() -> None:
    nli = FixedNLI({("a", "b"): 0.2, ("b", "a"): 0.9, ("c", "d"): 0.4})
    scores = opposition_scores([("a", "b"), ("b", "a"), ("c", "d")], nli=nli)
    assert scores == pytest.approx([0.9, 0.9, 0.4])
    assert opposition_from_probs([[0.1, 0.1, 0.8]], [[0.5, 0.4, 0.1]]) == pytest.approx([0.8])


def test_opposition_by_rule_nli_recognises_antonyms() -> None:
    scores = opposition_scores(
        [
            ("Coffee improves productivity.", "Coffee harms productivity."),
            ("Coffee improves productivity.", "Tea is hot."),
        ],
        nli=RuleNLI(),
    )
    assert scores[0] > 0.5 > scores[1]
    assert np.all((scores >= 0) & (scores <= 1))


def test_embedding_and_hybrid_methods() -> None:
    emb = HashEmbedder(64)
    pairs = [("plates move", "plates move"), ("plates move", "stars shine")]
    embedding = opposition_scores(pairs, embedder=emb, method="embedding")
    assert embedding[0] == pytest.approx(0.0, abs=1e-6) and embedding[1] > 0.2
    nli = FixedNLI({("plates move", "stars shine"): 1.0})
    hybrid = opposition_scores(
        pairs, nli=nli, embedder=emb, config=ChiralityConfig(method="hybrid", hybrid_nli_weight=0.5)
    )
    assert hybrid[1] == pytest.approx(0.5 * 1.0 + 0.5 * embedding[1])


def test_missing_model_for_method_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="chirality.method"):
        opposition_scores([("a", "b")])
    with pytest.raises(ConfigError, match="embedder"):
        opposition_scores([("a", "b")], method="embedding")
    assert opposition_scores([], nli=RuleNLI()).shape == (0,)


def test_chirality_score_is_opposition_times_trusts() -> None:
    a = StructuredNarrativeObject("X rises", trust_score=0.8)
    b = StructuredNarrativeObject("X falls", trust_score=0.5)
    nli = FixedNLI({("X rises", "X falls"): 0.7})
    assert chirality_score(a, b, nli=nli, method="nli") == pytest.approx(0.7 * 0.8 * 0.5)
    # narrative: max p_contra 0.7 − max p_entail 0.5 (the unscripted direction) over both
    # directions of the only statement pair; no embeddings, so no topic gate
    assert chirality_score(a, b, nli=nli, method="narrative") == pytest.approx((0.7 - 0.5) * 0.8 * 0.5)
    assert chirality_score(a, b, nli=nli) == pytest.approx(
        (0.7 - 0.5) * 0.8 * 0.5
    )  # narrative is the default
    b.trust_score = None
    assert chirality_score(a, b, nli=nli) == 0.0
    assert chirality_score(a, b, nli=nli, method="nli") == 0.0


def test_entanglement_is_jaccard_over_canonical_keys() -> None:
    a = make_sno("A", evidence=[("x", "doi:10.1000/XYZ.1"), ("y", "doi:10.1/y"), ("z", "doi:10.1/z")])
    b = make_sno("B", evidence=[("other text", "https://doi.org/10.1000/xyz.1"), ("w", "doi:10.1/w")])
    assert shared_evidence(a, b) == frozenset({"doi:10.1000/xyz.1"})
    assert entanglement_score(a, b) == pytest.approx(1 / 4)
    assert entanglement_score(make_sno("C"), make_sno("D")) == 0.0


def test_quality_weighted_entanglement() -> None:
    from cns.core.evidence import EvidenceItem

    a = StructuredNarrativeObject(
        "A",
        evidence_set=[
            EvidenceItem("x", source_id="k1", quality=1.0),
            EvidenceItem("y", source_id="k2", quality=0.5),
        ],
    )
    b = StructuredNarrativeObject(
        "B",
        evidence_set=[
            EvidenceItem("x", source_id="k1", quality=0.2),
            EvidenceItem("z", source_id="k3", quality=0.5),
        ],
    )
    assert entanglement_score(a, b, quality_weighted=True) == pytest.approx(1.0 / 2.0)


def test_jaccard_from_counts_vectorised() -> None:
    assert jaccard_from_counts([1, 0, 2], [2, 0, 2], [3, 0, 2]) == pytest.approx([0.25, 0.0, 1.0])


def test_synthesis_potential_formula() -> None:
    c, e = 0.8, 0.5
    expected = math.sqrt(c * e) * (1 + 0.2 * (1 - abs(c - e)))
    assert float(synthesis_potential(c, e)) == pytest.approx(expected)
    assert synthesis_potential([0.0, -1.0, 0.5], [0.5, 0.5, 0.5]) == pytest.approx([0.0, 0.0, 0.5 * 1.2])


def test_entanglement_ignores_the_documents_own_sentences() -> None:
    from cns.core.evidence import EvidenceItem

    def sno(sentences: list[str]) -> StructuredNarrativeObject:
        items = [EvidenceItem(s, metadata={"kind": "source_sentence"}) for s in sentences]
        items.append(
            EvidenceItem("cites Vine", source_id="doi:10.1038/199947a0", metadata={"kind": "citation"})
        )
        return StructuredNarrativeObject("H", evidence_set=items)

    a, b = sno(["a1", "a2", "a3"]), sno(["b1", "b2"])
    assert entanglement_score(a, b) == 1.0 and shared_evidence(a, b) == frozenset({"doi:10.1038/199947a0"})
    assert len(a.evidence_keys) == 4 and a.source_keys == frozenset({"doi:10.1038/199947a0"})
