from __future__ import annotations

import json

import numpy as np
import pytest

from cns.config import CNSConfig
from cns.errors import LLMResponseError, ValidationError
from cns.exploration import GuidedExplorer, exploration_target, extractive_candidates
from cns.testing.fakes import HashEmbedder, ScriptedLLM
from tests.conftest import make_sno


def test_target_formula_matches_the_blueprint() -> None:
    h_i, h_j = np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0])
    got = exploration_target(h_i, h_j, 0.5, alpha=0.1, beta=0.2)
    raw = h_i + 0.1 * (-h_i) + 0.2 * 0.5 * (h_i - h_j) / np.sqrt(2)
    np.testing.assert_allclose(got, raw / np.linalg.norm(raw))
    proxy = np.array([0.0, 0.0, 1.0])
    got = exploration_target(h_i, h_j, 0.0, proxy=proxy)
    np.testing.assert_allclose(got, (h_i + 0.1 * proxy) / np.linalg.norm(h_i + 0.1 * proxy))
    assert np.linalg.norm(exploration_target(h_i, h_i, 1.0)) == pytest.approx(1.0)  # no repulsion from itself


def test_target_rejects_bad_input() -> None:
    with pytest.raises(ValidationError, match="dimensions differ"):
        exploration_target([1.0, 0.0], [1.0, 0.0, 0.0], 0.5)
    with pytest.raises(ValidationError, match="zero vector"):
        exploration_target([1.0, 0.0], [1.0, 0.0], 0.5, alpha=1.0)


def sources(embedder: HashEmbedder):  # type: ignore[no-untyped-def]
    s_i = make_sno(
        "coffee improves focus",
        ["caffeine blocks adenosine receptors", "students report sharper attention", "decaf shows no effect"],
        [("adenosine study", "doi:10.1/ad")],
        embedder=embedder,
        trust=0.8,
        sno_id="i",
    )
    s_j = make_sno(
        "coffee harms focus", ["jitters distract students"], embedder=embedder, trust=0.7, sno_id="j"
    )
    return s_i, s_j


def test_explorer_keeps_the_candidate_closest_to_the_target(embedder: HashEmbedder) -> None:
    s_i, s_j = sources(embedder)
    before = s_i.content_hash()
    result = GuidedExplorer(CNSConfig(), embedder=embedder, k=5).explore(s_i, s_j, 0.6)
    texts = [t for t, _ in result.candidates]
    assert texts == extractive_candidates(s_i, 5) and len(texts) == 5
    assert s_i.hypothesis_embedding is not None and s_j.hypothesis_embedding is not None
    target = exploration_target(s_i.hypothesis_embedding, s_j.hypothesis_embedding, 0.6)
    cosines = embedder.encode(texts) @ target
    assert result.chosen == int(np.argmax(cosines))
    assert result.sno.central_hypothesis == texts[result.chosen]
    assert result.sno.metadata["explored_from"] == "i" and result.generator == "extractive"
    assert result.sno.evidence_keys == s_i.evidence_keys
    assert s_i.content_hash() == before and s_i.central_hypothesis == "coffee improves focus"


def test_a_different_proxy_can_change_the_choice(embedder: HashEmbedder) -> None:
    s_i, s_j = sources(embedder)
    explorer = GuidedExplorer(CNSConfig(), embedder=embedder, k=8, alpha=5.0)
    chosen = set()
    for text in extractive_candidates(s_i, 8):
        result = explorer.explore(s_i, s_j, 0.5, proxy=embedder.encode([text])[0])
        chosen.add(result.sno.central_hypothesis)
        assert result.sno.central_hypothesis == text  # a strong pull towards one candidate picks it
    assert len(chosen) == 8


def test_llm_candidates_and_fallback(embedder: HashEmbedder) -> None:
    s_i, s_j = sources(embedder)
    reply = json.dumps(
        {"hypotheses": ["coffee improves focus for rested students", "adenosine blocking sharpens attention"]}
    )
    llm = ScriptedLLM([reply])
    result = GuidedExplorer(CNSConfig(), embedder=embedder, llm=llm, k=2).explore(s_i, s_j, 0.5)
    assert result.generator == "llm" and {t for t, _ in result.candidates} == set(
        json.loads(reply)["hypotheses"]
    )
    assert "DATA>>>" in llm.calls[0]["messages"][1]["content"]
    failing = ScriptedLLM([LLMResponseError("down")])
    result = GuidedExplorer(CNSConfig(), embedder=embedder, llm=failing, k=2).explore(s_i, s_j, 0.5)
    assert result.generator == "extractive"


def test_nothing_to_explore(embedder: HashEmbedder) -> None:
    bare = make_sno("coffee improves focus", embedder=embedder, sno_id="x")
    _, s_j = sources(embedder)
    with pytest.raises(ValidationError, match="nothing to explore"):
        GuidedExplorer(CNSConfig(), embedder=embedder).explore(bare, s_j, 0.5)


def test_extractive_candidates_only_recombine_own_sentences(embedder: HashEmbedder) -> None:
    import re

    from cns.exploration.candidates import GLUE_WORDS

    s_i, _ = sources(embedder)
    own = set(re.findall(r"[a-z0-9']+", " ".join(c.content for c in s_i.claims()).lower()))
    for text in extractive_candidates(s_i, 50):
        assert set(re.findall(r"[a-z0-9']+", text.lower())) <= own | GLUE_WORDS
    assert len(extractive_candidates(s_i, 50)) == 3 + 3 + 3  # claims, "because" forms, claim pairs
