from __future__ import annotations

import math

import numpy as np
import pytest

from cns.config import CNSConfig
from cns.config.settings import GroundingConfig, LogicConfig, NoveltyConfig
from cns.core.evidence import EvidenceItem
from cns.core.graph import ROOT_ID
from cns.core.sno import StructuredNarrativeObject
from cns.critics import CriticPipeline, EvaluationContext, GroundingCritic, LogicCritic, NoveltyCritic
from cns.critics.pipeline import build_pipeline
from cns.errors import ConfigError
from cns.index.memory import ExactVectorIndex
from cns.testing.fakes import RuleNLI


class TableNLI:
    """Entailment probability looked up per (premise, hypothesis); unknown pairs 0.1."""

    name, version = "table", "7"

    def __init__(self, entail: dict[tuple[str, str], float]) -> None:
        self.entail = entail
        self.pairs: list[tuple[str, str]] = []

    def predict(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        self.pairs.extend(pairs)
        rows = [[self.entail.get(p, 0.1), 1 - self.entail.get(p, 0.1), 0.0] for p in pairs]
        return np.array(rows, dtype=np.float32).reshape(-1, 3)


def grounded_sno() -> StructuredNarrativeObject:
    sno = StructuredNarrativeObject("H")
    sno.add_reasoning_edge(sno.add_claim("c1"), ROOT_ID)
    sno.add_evidence(EvidenceItem("e1", source_id="s1"))
    sno.add_evidence(EvidenceItem("e2", source_id="s2"))
    return sno


def test_grounding_is_mean_over_claims_of_max_entailment() -> None:
    nli = TableNLI({("e1", "H"): 0.9, ("e2", "H"): 0.3, ("e1", "c1"): 0.2, ("e2", "c1"): 0.6})
    result = GroundingCritic(nli).evaluate(grounded_sno(), EvaluationContext())
    assert result.score == pytest.approx((0.9 + 0.6) / 2)
    assert result.sub_scores == pytest.approx({"root": 0.9, "claim_1": 0.6})
    assert len(nli.pairs) == 4  # |V| * |E| in one batch
    assert result.models == {"nli": "table@7"}
    assert result.evidence["best_evidence"]["claim_1"] == "src:s2"


def test_grounding_without_root_and_without_evidence() -> None:
    nli = TableNLI({("e1", "c1"): 0.2, ("e2", "c1"): 0.6})
    result = GroundingCritic(nli, GroundingConfig(include_root=False)).evaluate(
        grounded_sno(), EvaluationContext()
    )
    assert result.score == pytest.approx(0.6)
    empty = GroundingCritic(nli).evaluate(StructuredNarrativeObject("H"), EvaluationContext())
    assert empty.score == 0.0 and "no evidence" in empty.explanation


def test_grounding_quality_weighted() -> None:
    sno = StructuredNarrativeObject("H", evidence_set=[EvidenceItem("e1", source_id="s1", quality=0.5)])
    nli = TableNLI({("e1", "H"): 0.8})
    result = GroundingCritic(nli, GroundingConfig(quality_weighted=True)).evaluate(sno, EvaluationContext())
    assert result.score == pytest.approx(0.4)


def test_logic_counts_orphans_by_path_to_root() -> None:
    sno = StructuredNarrativeObject("H")
    a, b, c = sno.add_claim("a"), sno.add_claim("b"), sno.add_claim("orphan")
    sno.add_reasoning_edge(a, b)  # a is a base premise: in-degree 0 but reaches the root via b
    sno.add_reasoning_edge(b, ROOT_ID)
    result = LogicCritic().evaluate(sno, EvaluationContext())
    n, m = 4, 2
    orphan = 1 - 1 / 3
    coherence = 1 - (m / n) / 3
    parsimony = 1 - m / (n * (n - 1))
    assert result.score == pytest.approx(0.5 * orphan + 0.3 * coherence + 0.2 * parsimony)
    assert result.evidence["orphans"] == [c]


def test_logic_penalises_isolated_root_opposing_edges_and_bare_hypotheses() -> None:
    cfg = LogicConfig()
    bare = LogicCritic(cfg).evaluate(StructuredNarrativeObject("H"), EvaluationContext())
    assert bare.score == pytest.approx(1 - cfg.isolated_root_penalty)

    isolated = StructuredNarrativeObject("H")
    isolated.add_claim("a")
    res = LogicCritic(cfg).evaluate(isolated, EvaluationContext())
    base = res.sub_scores["base"]
    assert res.score == pytest.approx(base * (1 - cfg.isolated_root_penalty))

    contra = StructuredNarrativeObject("H")
    a, b = contra.add_claim("a"), contra.add_claim("b")
    contra.add_reasoning_edge(a, ROOT_ID, "supports")
    contra.add_reasoning_edge(b, a, "contradicts")
    res = LogicCritic(cfg).evaluate(contra, EvaluationContext())
    assert res.score == pytest.approx(res.sub_scores["base"] * (1 - cfg.opposing_edge_penalty))
    assert res.evidence["opposing_edges"] == [[b, a]]


def unit(*xs: float) -> np.ndarray:
    v = np.array(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_novelty_uses_nearest_reference_and_parsimony_penalty() -> None:
    index = ExactVectorIndex(2)
    index.add(["near", "far"], np.stack([unit(1, 0.2), unit(-1, 0)]))
    sno = StructuredNarrativeObject("H", sno_id="me", hypothesis_embedding=unit(1, 0))
    sno.add_reasoning_edge(sno.add_claim("a"), ROOT_ID)
    result = NoveltyCritic().evaluate(sno, EvaluationContext(reference_index=index))
    distance = float(np.linalg.norm(unit(1, 0) - unit(1, 0.2))) / 2
    penalty = 0.3 * min(1.0, (1 / 2) / 5)
    assert result.score == pytest.approx(0.7 * distance - penalty, abs=1e-6)
    assert result.evidence["nearest"] == "near"


def test_novelty_excludes_itself_and_handles_empty_reference() -> None:
    index = ExactVectorIndex(2)
    index.add(["me", "other"], np.stack([unit(1, 0), unit(0, 1)]))
    sno = StructuredNarrativeObject("H", sno_id="me", hypothesis_embedding=unit(1, 0))
    result = NoveltyCritic().evaluate(sno, EvaluationContext(reference_index=index))
    assert result.evidence["nearest"] == "other"
    assert result.sub_scores["novelty"] == pytest.approx(math.sqrt(2) / 2, abs=1e-6)
    alone = NoveltyCritic(NoveltyConfig(alpha=1.0)).evaluate(sno, EvaluationContext())
    assert alone.score == pytest.approx(1.0)


def test_pipeline_is_weighted_average_normalised_by_weight_sum() -> None:
    nli = TableNLI({("e1", "H"): 0.9, ("e2", "c1"): 0.6})
    sno = grounded_sno()
    sno.set_embedding(unit(1, 0))
    pipeline = CriticPipeline(
        [GroundingCritic(nli), LogicCritic(), NoveltyCritic()], {"grounding": 2, "logic": 1, "novelty": 1}
    )
    result = pipeline.evaluate_sno(sno)
    s = {k: r.score for k, r in result.critic_results.items()}
    assert result.trust_score == pytest.approx((2 * s["grounding"] + s["logic"] + s["novelty"]) / 4)
    assert sno.trust_score == result.trust_score and sno.evaluation is not None
    pipeline.adjust_weights("verification")
    assert pipeline.weights == {"grounding": 0.45, "logic": 0.45, "novelty": 0.1}
    with pytest.raises(ConfigError):
        pipeline.adjust_weights({"grounding": 0, "logic": 0, "novelty": 0})
    with pytest.raises(ConfigError, match="no critic"):
        pipeline.adjust_weights({"bias": 1})


def test_env_critic_weights_change_trust(monkeypatch: pytest.MonkeyPatch) -> None:
    def trust() -> float:
        sno = grounded_sno()
        sno.set_embedding(unit(1, 0))
        pipeline = build_pipeline(CNSConfig(), nli=RuleNLI())
        return pipeline.evaluate_sno(sno).trust_score

    default = trust()
    monkeypatch.setenv("CNS_CRITIC_WEIGHTS", '{"grounding":0.5,"logic":0.25,"novelty":0.25}')
    changed = trust()
    assert changed != pytest.approx(default)
    sno = grounded_sno()
    sno.set_embedding(unit(1, 0))
    res = build_pipeline(CNSConfig(), nli=RuleNLI()).evaluate_sno(sno)
    s = {k: r.score for k, r in res.critic_results.items()}
    assert changed == pytest.approx(0.5 * s["grounding"] + 0.25 * s["logic"] + 0.25 * s["novelty"])


def test_a_claim_is_not_grounded_by_its_own_sentence_but_a_citation_counts() -> None:
    sno = StructuredNarrativeObject("H")
    c1 = sno.add_claim("Stripes are symmetric.")
    sno.add_reasoning_edge(c1, ROOT_ID)
    sno.add_evidence(EvidenceItem("Stripes are symmetric.", metadata={"kind": "source_sentence"}))
    nli = TableNLI({("Stripes are symmetric.", "Stripes are symmetric."): 0.99})
    result = GroundingCritic(nli, GroundingConfig(include_root=False)).evaluate(sno, EvaluationContext())
    assert result.score == 0.0 and nli.pairs == []  # the self-quote was never put to the NLI model
    sno.add_evidence(
        EvidenceItem(
            "Stripes are symmetric.", source_id="doi:10.1038/199947a0", metadata={"kind": "citation"}
        )
    )
    cited = GroundingCritic(nli, GroundingConfig(include_root=False)).evaluate(sno, EvaluationContext())
    assert cited.score == pytest.approx(0.99)


def test_top_k_evidence_limits_nli_pairs_to_the_most_similar_items() -> None:
    from cns.testing.fakes import HashEmbedder

    sno = StructuredNarrativeObject("plates move apart")
    for i, text in enumerate(["plates move apart slowly", "stars shine", "cats sleep", "plates move"]):
        sno.add_evidence(EvidenceItem(text, source_id=f"s{i}"))
    nli = TableNLI({})
    GroundingCritic(nli, GroundingConfig(top_k_evidence=2), HashEmbedder(64)).evaluate(
        sno, EvaluationContext()
    )
    assert sorted(p for p, _ in nli.pairs) == ["plates move", "plates move apart slowly"]


class TableEmbedder:
    """Fixed unit vectors per text: the test decides every cosine."""

    name, version, dimension = "table-embedder", "1", 2

    def __init__(self, vectors: dict[str, tuple[float, float]]) -> None:
        self.vectors = vectors

    def encode(self, texts: list[str]) -> np.ndarray:
        return np.stack([unit(*self.vectors[t]) for t in texts])


def test_similarity_margin_skips_evidence_far_below_the_claims_closest_item() -> None:
    # cosines to the claim "H" (vector (1, 0)): close 1.0, near 0.8, far 0.6, away 0.0
    angles = {"H": (1.0, 0.0), "close": (1.0, 0.0), "near": (0.8, 0.6), "far": (0.6, 0.8), "away": (0.0, 1.0)}
    sno = StructuredNarrativeObject("H")
    for i, text in enumerate(["close", "near", "far", "away"]):
        sno.add_evidence(EvidenceItem(text, source_id=f"s{i}"))
    judged = {}
    for margin in (0.3, 0.1, None):
        nli = TableNLI({("far", "H"): 0.9, ("close", "H"): 0.5})
        config = GroundingConfig(top_k_evidence=3, similarity_margin=margin)
        critic = GroundingCritic(nli, config, TableEmbedder(angles))
        result = critic.evaluate(sno, EvaluationContext())
        judged[margin] = (sorted(p for p, _ in nli.pairs), result.score)
        assert critic.plan_pairs("H", [], sno.evidence_set) == nli.pairs  # the plan follows the rule
    assert judged[0.3] == (["close", "near"], pytest.approx(0.5))  # far is 0.4 below the best
    assert judged[0.1] == (["close"], pytest.approx(0.5))
    assert judged[None] == (["close", "far", "near"], pytest.approx(0.9))  # the top 3 alone
    # with no more items than k there is nothing to rank: no vectors, every item judged
    nli = TableNLI({})
    GroundingCritic(nli, GroundingConfig(top_k_evidence=4), TableEmbedder({})).evaluate(
        sno, EvaluationContext()
    )
    assert sorted(p for p, _ in nli.pairs) == ["away", "close", "far", "near"]


def test_plan_pairs_names_exactly_the_pairs_evaluate_judges() -> None:
    """Ingestion judges the planned pairs early; evaluate must then need nothing else."""
    from cns.testing.fakes import HashEmbedder

    sno = StructuredNarrativeObject("plates move apart")
    claims = ["plates move apart slowly", "oceans widen every year", "cats sleep"]
    for text in claims:
        sno.add_reasoning_edge(sno.add_claim(text), ROOT_ID)
    evidence = [
        EvidenceItem("plates move apart slowly", metadata={"kind": "claim_sentence"}),  # own sentence
        EvidenceItem("stars shine", source_id="s1"),
        EvidenceItem("oceans widen", source_id="s2"),
        EvidenceItem("a second sentence citing s2", source_id="s2"),  # same key: the SNO keeps the first
        EvidenceItem("cats sleep all day", source_id="s3"),
    ]
    for item in evidence:
        sno.add_evidence(item)
    for config in (
        GroundingConfig(top_k_evidence=2),
        GroundingConfig(top_k_evidence=None, include_root=False),
    ):
        nli = TableNLI({})
        critic = GroundingCritic(nli, config, HashEmbedder(64))
        planned = critic.plan_pairs("plates move apart", claims, evidence)
        critic.evaluate(sno, EvaluationContext())
        assert planned == nli.pairs and planned
    assert GroundingCritic(TableNLI({})).plan_pairs("H", [], []) == []


def test_a_claim_without_its_link_syntax_is_not_grounded_by_its_own_sentence(nli) -> None:  # type: ignore[no-untyped-def]
    """Claims are stored without link markup, the evidence item quoting their sentence keeps it:
    the two are still one sentence, and a sentence must not ground itself."""
    raw = "Tags fail in trials [[http://example.org/report]]."
    quote = {"kind": "source_sentence"}
    own = EvidenceItem(raw, source_id="src:doc:abc#0-49", metadata=quote)
    other = EvidenceItem(
        "Trials found that offenders remove tags.", source_id="src:doc:abc#50-90", metadata=quote
    )
    pairs = GroundingCritic(nli).plan_pairs("Tags should go.", ["Tags fail in trials."], [own, other])
    assert (raw, "Tags fail in trials.") not in pairs
    assert ("Trials found that offenders remove tags.", "Tags fail in trials.") in pairs
