"""Shared builders for the synthesis tests (imported as ``tests.synthesis.synth_fixtures``)."""

from __future__ import annotations

import json
from typing import Any

from cns.config import CNSConfig
from cns.core.sno import StructuredNarrativeObject
from cns.critics.evaluator import Evaluator, build_reference_index
from cns.pairs import ChiralPair, find_chiral_pairs
from cns.ports import VectorIndex
from cns.testing.fakes import HashEmbedder, RuleNLI
from tests.conftest import make_sno

TRIAL = ("caffeine makes workers more alert in trials", "doi:10.1/trial")
SURVEY = ("office survey of finished tasks", "doi:10.1/survey")
SLEEP = ("caffeine disrupts sleep of workers at night", "doi:10.1/sleep")


def config(**overrides: Any) -> CNSConfig:
    base: dict[str, Any] = {
        "models": {"embedding_backend": "fake", "nli_backend": "fake"},
        "synthesis_thresholds": {"chirality": 0.2, "entanglement": 0.1, "potential": 0.1},
        # these fixtures test synthesis, not opposition scoring: the hypothesis-level formula keeps
        # the pair's chirality easy to reason about with the rule-based fake NLI
        "chirality": {"method": "nli"},
    }
    base.update(overrides)
    return CNSConfig(**base)


def make_pair(
    embedder: HashEmbedder, nli: RuleNLI, cfg: CNSConfig | None = None, *, suffix: str = ""
) -> ChiralPair:
    a = make_sno(
        "coffee increases productivity of office workers",
        ["caffeine makes workers more alert", "alert workers finish tasks"],
        [TRIAL, SURVEY],
        embedder=embedder,
        trust=0.6,
        sno_id="a" + suffix,
    )
    b = make_sno(
        "coffee decreases productivity of office workers",
        ["caffeine disrupts sleep of workers", "caffeine makes workers less alert"],
        [TRIAL, SLEEP],
        embedder=embedder,
        trust=0.55,
        sno_id="b" + suffix,
    )
    [pair] = find_chiral_pairs([a, b], cfg or config(), nli=nli, embedder=embedder)
    return pair


def reference_of(snos: list[StructuredNarrativeObject], cfg: CNSConfig | None = None) -> VectorIndex:
    """The novelty reference set of ``snos`` (their trusted members), built once for a test."""
    cf = cfg or config()
    return build_reference_index(
        snos, dimension=cf.embedding_dim, min_trust=cf.thresholds.novelty_reference_trust
    )


def evaluator(cfg: CNSConfig, embedder: HashEmbedder, nli: RuleNLI) -> Evaluator:
    return Evaluator(cfg, embedder=embedder, nli=nli)


def answer(evidence_ids: list[str], **changes: Any) -> str:
    data: dict[str, Any] = {
        "hypothesis": "caffeine makes workers more alert by day yet disrupts sleep of workers at night",
        "claims": [
            {"id": "c1", "text": "caffeine makes workers more alert", "type": "premise"},
            {"id": "c2", "text": "caffeine disrupts sleep of workers", "type": "premise"},
        ],
        "edges": [
            {"src": "c1", "tgt": "root", "relation": "supports"},
            {"src": "c2", "tgt": "root", "relation": "supports"},
        ],
        "evidence_ids": evidence_ids,
        "reasoning": "the trial measures alertness, the sleep study measures nights",
    }
    data.update(changes)
    return json.dumps(data)
