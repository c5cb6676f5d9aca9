from __future__ import annotations

import random

import numpy as np
import pytest

from cns.config import CNSConfig
from cns.config.settings import ChiralityConfig, ChiralityMethod
from cns.core.evidence import EvidenceItem
from cns.core.sno import SNOStatus, StructuredNarrativeObject
from cns.errors import ConfigError, ValidationError
from cns.pairs import (
    ChiralPair,
    PairSearchOptions,
    brute_force_pairs,
    find_chiral_pairs,
    pair_key,
    search_chiral_pairs,
)
from cns.store.memory import InMemorySNOStore
from cns.testing.fakes import HashEmbedder, RuleNLI
from tests.conftest import make_sno

VERBS = ("increases", "decreases")


def population(
    n: int, *, seed: int, n_keys: int = 40, embedder: HashEmbedder | None = None
) -> list[StructuredNarrativeObject]:
    rng = random.Random(seed)
    snos = []
    for i in range(n):
        topic = rng.randrange(4)
        hyp = f"drug{topic} {rng.choice(VERBS)} risk{topic}"
        sno = StructuredNarrativeObject(hyp, sno_id=f"s{i:03d}", trust_score=round(rng.uniform(0.3, 1.0), 3))
        for k in rng.sample(range(n_keys), rng.randint(1, 5)):
            sno.add_evidence(EvidenceItem(f"evidence text {k}", source_id=f"doc-{k}"))
        if embedder is not None:
            sno.set_embedding(embedder.encode([hyp])[0])
        snos.append(sno)
    return snos


def summary(pairs: list[ChiralPair]) -> list[tuple[object, ...]]:
    return [(p.key, p.chirality, p.entanglement, p.potential, p.shared_evidence) for p in pairs]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
@pytest.mark.parametrize("method", ["nli", "embedding", "hybrid"])
def test_equals_brute_force_on_random_populations(seed: int, method: str, embedder: HashEmbedder) -> None:
    config = CNSConfig(
        chirality={"method": method},
        synthesis_thresholds={"chirality": 0.2, "entanglement": 0.1, "potential": 0.1},
        population={"max_pairs": 15},
        pair_search={"topic_neighbours": 0, "side_consistency": False},  # the layers brute force lacks
    )
    snos = population(60, seed=seed, embedder=embedder)
    nli = RuleNLI()
    fast = find_chiral_pairs(snos, config, nli=nli, embedder=embedder)
    slow = brute_force_pairs(snos, config, nli=nli, embedder=embedder)
    assert len(slow) > 3
    assert summary(fast) == summary(slow)
    assert [p.potential for p in fast] == sorted((p.potential for p in fast), reverse=True)


def test_exact_even_when_scoring_in_small_batches(embedder: HashEmbedder) -> None:
    config = CNSConfig(
        synthesis_thresholds={"chirality": 0.2, "entanglement": 0.1, "potential": 0.1},
        population={"max_pairs": 5},
    )
    snos = population(80, seed=7)
    nli = RuleNLI()
    result = search_chiral_pairs(snos, config, nli=nli, options=PairSearchOptions(nli_batch_size=8))
    assert summary(result.pairs) == summary(brute_force_pairs(snos, config, nli=nli))
    assert result.stats.exact
    # best-first scoring stopped before scoring every candidate
    assert result.stats.scored_candidates < result.stats.entangled_candidates


def test_candidate_cap_is_reported_as_inexact() -> None:
    config = CNSConfig(synthesis_thresholds={"chirality": 0.2, "entanglement": 0.1, "potential": 0.1})
    snos = population(80, seed=7)
    result = search_chiral_pairs(
        snos, config, nli=RuleNLI(), options=PairSearchOptions(max_scored_candidates=3, nli_batch_size=2)
    )
    assert result.stats.scored_candidates == 3
    assert not result.stats.exact


def test_entanglement_prefilter_runs_before_any_nli_call() -> None:
    nli = RuleNLI()
    a = make_sno(
        "coffee increases productivity",
        evidence=[("study one", "doi:10.1/a"), ("x", "doi:10.1/x")],
        trust=0.9,
        sno_id="a",
    )
    b = make_sno(
        "coffee decreases productivity",
        evidence=[("study one", "doi:10.1/a"), ("y", "doi:10.1/y")],
        trust=0.9,
        sno_id="b",
    )
    c = make_sno("coffee decreases sleep", evidence=[("z", "doi:10.1/z")], trust=0.9, sno_id="c")
    nli_method = {"method": "nli"}  # the sentence-level formula: opposition = max p_contra
    config = CNSConfig(
        chirality=nli_method, synthesis_thresholds={"chirality": 0.2, "entanglement": 0.5, "potential": 0.0}
    )
    # a–b share 1 of 3 keys: E = 1/3 < 0.5; c shares nothing → no candidate reaches the model
    assert find_chiral_pairs([a, b, c], config, nli=nli) == []
    assert nli.pairs_seen == 0
    config = CNSConfig(
        chirality=nli_method, synthesis_thresholds={"chirality": 0.2, "entanglement": 0.3, "potential": 0.0}
    )
    pairs = find_chiral_pairs([a, b, c], config, nli=nli)
    assert [p.key for p in pairs] == [("a", "b")]
    assert pairs[0].entanglement == pytest.approx(1 / 3)
    assert pairs[0].shared_evidence == frozenset({"doi:10.1/a"})
    # opposition 0.8 (RuleNLI antonym) · 0.9 · 0.9
    assert pairs[0].chirality == pytest.approx(0.8 * 0.81, rel=1e-5)


def test_thresholds_filter_pairs() -> None:
    a = make_sno("coffee increases productivity", evidence=[("s", "doi:10.1/a")], trust=0.6, sno_id="a")
    b = make_sno("coffee decreases productivity", evidence=[("s", "doi:10.1/a")], trust=0.6, sno_id="b")
    nli = RuleNLI()
    m = {"method": "nli"}  # the sentence-level formula: opposition = max p_contra = 0.8
    # C = 0.8 · 0.36 = 0.288, E = 1
    low = CNSConfig(
        chirality=m, synthesis_thresholds={"chirality": 0.28, "entanglement": 0.5, "potential": 0.1}
    )
    assert len(find_chiral_pairs([a, b], low, nli=nli)) == 1
    high = CNSConfig(
        chirality=m, synthesis_thresholds={"chirality": 0.3, "entanglement": 0.5, "potential": 0.1}
    )
    assert find_chiral_pairs([a, b], high, nli=nli) == []
    # P = sqrt(0.288) · (1 + 0.2 · (1 − 0.712)) ≈ 0.5676
    p_high = CNSConfig(
        chirality=m, synthesis_thresholds={"chirality": 0.2, "entanglement": 0.5, "potential": 0.57}
    )
    assert find_chiral_pairs([a, b], p_high, nli=nli) == []
    p_ok = CNSConfig(
        chirality=m, synthesis_thresholds={"chirality": 0.2, "entanglement": 0.5, "potential": 0.56}
    )
    [pair] = find_chiral_pairs([a, b], p_ok, nli=nli)
    assert pair.potential == pytest.approx(np.sqrt(0.288) * (1 + 0.2 * (1 - 0.712)), rel=1e-5)


def test_untrusted_snos_are_never_paired() -> None:
    a = make_sno("coffee increases productivity", evidence=[("s", "doi:10.1/a")], trust=0.9, sno_id="a")
    b = make_sno("coffee decreases productivity", evidence=[("s", "doi:10.1/a")], sno_id="b")
    assert find_chiral_pairs([a, b], CNSConfig(), nli=RuleNLI()) == []


def test_conflict_points_list_hypothesis_then_contradicting_claims() -> None:
    a = make_sno(
        "coffee increases productivity",
        ["caffeine makes workers more alert", "the office is open late", "sleep quality is higher"],
        [("shared trial", "doi:10.1/t")],
        trust=0.9,
        sno_id="a",
    )
    b = make_sno(
        "coffee decreases productivity",
        ["caffeine makes workers less alert", "sleep quality is lower"],
        [("shared trial", "doi:10.1/t")],
        trust=0.9,
        sno_id="b",
    )
    [pair] = find_chiral_pairs([a, b], CNSConfig(), nli=RuleNLI())
    points = pair.conflict_points
    assert points[0].kind == "hypothesis"
    assert (points[0].text_a, points[0].text_b) == (a.central_hypothesis, b.central_hypothesis)
    claim_pairs = {(p.text_a, p.text_b) for p in points[1:]}
    assert claim_pairs == {
        ("caffeine makes workers more alert", "caffeine makes workers less alert"),
        ("sleep quality is higher", "sleep quality is lower"),
    }
    assert all(p.p_contra >= 0.5 for p in points[1:])


def test_conflict_points_capped_at_top_five() -> None:
    claims_a = [f"level{i} is higher" for i in range(8)]
    claims_b = [f"level{i} is lower" for i in range(8)]
    a = make_sno("coffee increases productivity", claims_a, [("t", "doi:10.1/t")], trust=0.9, sno_id="a")
    b = make_sno("coffee decreases productivity", claims_b, [("t", "doi:10.1/t")], trust=0.9, sno_id="b")
    [pair] = find_chiral_pairs([a, b], CNSConfig(), nli=RuleNLI())
    assert len(pair.conflict_points) == 1 + 5


def test_accepts_a_store_and_uses_only_active_snos() -> None:
    store = InMemorySNOStore()
    a = make_sno("coffee increases productivity", evidence=[("s", "doi:10.1/a")], trust=0.9, sno_id="a")
    b = make_sno("coffee decreases productivity", evidence=[("s", "doi:10.1/a")], trust=0.9, sno_id="b")
    c = make_sno("coffee decreases productivity a lot", evidence=[("s", "doi:10.1/a")], trust=0.9, sno_id="c")
    a.status = b.status = SNOStatus.ACTIVE
    c.status = SNOStatus.ARCHIVED
    for sno in (a, b, c):
        store.put(sno)
    pairs = find_chiral_pairs(store, CNSConfig(), nli=RuleNLI())
    assert [p.key for p in pairs] == [("a", "b")]


def test_rejects_other_inputs_and_missing_models() -> None:
    with pytest.raises(ValidationError, match="list of StructuredNarrativeObject"):
        find_chiral_pairs(["not an sno"], CNSConfig(), nli=RuleNLI())  # type: ignore[list-item]
    a = make_sno("coffee increases productivity", evidence=[("s", "doi:10.1/a")], trust=0.9, sno_id="a")
    b = make_sno("coffee decreases productivity", evidence=[("s", "doi:10.1/a")], trust=0.9, sno_id="b")
    with pytest.raises(ConfigError, match="embedding"):
        find_chiral_pairs([a, b], CNSConfig(chirality={"method": "embedding"}), nli=RuleNLI())


def test_stop_keys_are_not_expanded_but_counted_exactly() -> None:
    config = CNSConfig(synthesis_thresholds={"chirality": 0.2, "entanglement": 0.1, "potential": 0.1})
    common = ("encyclopedia main page", "https://example.org/main")
    snos = []
    for i in range(6):
        verb = VERBS[i % 2]
        ev = [common, (f"paper {i // 2}", f"doi:10.1/p{i // 2}")]
        snos.append(make_sno(f"drug {verb} risk", evidence=ev, trust=0.9, sno_id=f"s{i}"))
    nli = RuleNLI()
    opts = PairSearchOptions(stop_key_max_postings=3)
    result = search_chiral_pairs(snos, config, nli=nli, options=opts)
    assert result.stats.stop_keys == 1
    # only pairs sharing a paper are candidates; the stop key still counts: E = 2/2
    assert {p.key for p in result.pairs} == {("s0", "s1"), ("s2", "s3"), ("s4", "s5")}
    assert all(p.entanglement == 1.0 for p in result.pairs)
    assert all(
        len(p.shared_evidence) == 2 and "url:example.org/main" in p.shared_evidence for p in result.pairs
    )
    # without the cap, the brute-force result also contains pairs sharing only the common page
    full = find_chiral_pairs(
        snos,
        config.model_copy(update={"population": config.population.model_copy(update={"max_pairs": 50})}),
        nli=nli,
    )
    assert len(full) > 3


def test_opposition_search_finds_pairs_without_shared_evidence(embedder: HashEmbedder) -> None:
    a = make_sno(
        "coffee increases productivity",
        evidence=[("x", "doi:10.1/x")],
        embedder=embedder,
        trust=0.9,
        sno_id="a",
    )
    b = make_sno(
        "coffee decreases productivity",
        evidence=[("y", "doi:10.1/y")],
        embedder=embedder,
        trust=0.9,
        sno_id="b",
    )
    c = make_sno(
        "tea is served hot", evidence=[("z", "doi:10.1/z")], embedder=embedder, trust=0.9, sno_id="c"
    )
    # sentence formula: opposition = max p_contra; the topic search switched off in the config
    config = CNSConfig(chirality={"method": "nli"}, pair_search={"topic_neighbours": 0})
    assert find_chiral_pairs([a, b, c], config, nli=RuleNLI()) == []
    opts = PairSearchOptions(opposition_search=True, opposition_neighbours=1)
    result = search_chiral_pairs([a, b, c], config, nli=RuleNLI(), options=opts)
    [pair] = result.pairs
    assert pair.key == ("a", "b") and pair.source == "opposition"
    assert pair.entanglement == 0.0 and pair.chirality == pytest.approx(0.8 * 0.81, rel=1e-5)
    assert result.stats.opposition_candidates <= 3


def test_pair_key_is_unordered() -> None:
    assert pair_key("b", "a") == pair_key("a", "b") == ("a", "b")


def test_options_are_validated() -> None:
    with pytest.raises(ValueError, match="stop_key_max_postings"):
        PairSearchOptions(stop_key_max_postings=0)
    with pytest.raises(ValueError, match="conflict_threshold"):
        PairSearchOptions(conflict_threshold=1.5)


def test_pair_to_dict_is_json_safe() -> None:
    import json

    a = make_sno("coffee increases productivity", evidence=[("s", "doi:10.1/a")], trust=0.9, sno_id="a")
    b = make_sno("coffee decreases productivity", evidence=[("s", "doi:10.1/a")], trust=0.9, sno_id="b")
    [pair] = find_chiral_pairs([a, b], CNSConfig(), nli=RuleNLI())
    data = json.loads(json.dumps(pair.to_dict()))
    assert data["sno_a"] == "a" and data["shared_evidence"] == ["doi:10.1/a"]
    assert data["conflict_points"][0]["kind"] == "hypothesis"


def test_nli_is_loaded_from_config_only_when_needed(fake_config: CNSConfig) -> None:
    a = make_sno("coffee increases productivity", evidence=[("s", "doi:10.1/a")], trust=0.9, sno_id="a")
    b = make_sno("coffee decreases productivity", evidence=[("s", "doi:10.1/a")], trust=0.9, sno_id="b")
    hypotheses = fake_config.model_copy(update={"chirality": ChiralityConfig(method=ChiralityMethod.NLI)})
    [pair] = find_chiral_pairs([a, b], hypotheses)  # the fake backend named by the config
    assert pair.chirality == pytest.approx(0.8 * 0.81, rel=1e-5)
    narrative = fake_config.model_copy(
        update={"chirality": ChiralityConfig(method=ChiralityMethod.NARRATIVE)}
    )
    [pair] = find_chiral_pairs([a, b], narrative)
    # narrative opposition of two hypothesis-only SNOs: p_contra 0.8 − p_entail 0.05
    assert pair.chirality == pytest.approx(0.75 * 0.81, rel=1e-5)
    lone = make_sno("coffee decreases sleep", evidence=[("z", "doi:10.1/z")], trust=0.9, sno_id="c")
    broken = CNSConfig(models={"nli_backend": "transformers", "nli": "/nonexistent/model"})
    assert find_chiral_pairs([a, lone], broken) == []  # no candidate → no model load attempted


def test_ties_at_the_candidate_cap_stay_bounded_and_exact() -> None:
    from cns.pairs.candidates import Candidates
    from cns.pairs.ranking import top_by_bound

    n = 1000
    cand = Candidates(
        np.arange(n, dtype=np.int32)[::-1].copy(),
        np.arange(n, dtype=np.int32) + n,
        np.ones(n, dtype=np.int32),
    )
    bound = np.full(n, 0.5)
    bound[:3] = 0.9
    kept, _, kept_bound = top_by_bound(cand, bound.copy(), bound, 10)
    assert len(kept) == 10 and (kept_bound >= 0.5).all() and (kept_bound == 0.9).sum() == 3
    # ties broken by the smallest row index: the 7 tied candidates with the smallest a
    assert sorted(kept.a.tolist())[:7] == list(range(7))
    # identical bounds everywhere and a cap of 5 scored candidates: 3 of them are chiral; the
    # search says it is not exact, and what it found is the head of the brute-force ranking
    snos = []
    for i in range(30):
        verb = VERBS[i % 2]
        snos.append(
            make_sno(f"drug {verb} risk", evidence=[("s", "doi:10.1/s")], trust=0.9, sno_id=f"s{i:02d}")
        )
    config = CNSConfig(population={"max_pairs": 5})
    opts = PairSearchOptions(max_scored_candidates=5, nli_batch_size=5)
    result = search_chiral_pairs(snos, config, nli=RuleNLI(), options=opts)
    assert not result.stats.exact and result.stats.scored_candidates == 5
    assert summary(result.pairs) == summary(brute_force_pairs(snos, config, nli=RuleNLI()))[:3]
