"""``extraction.*``: the heuristic extractor's thresholds are configuration, like every other one."""

from __future__ import annotations

import pytest

from cns.config import CNSConfig
from cns.config.extraction import EdgeNLIConfig, ExtractionConfig
from cns.errors import ConfigError
from cns.ingestion.edges import NLIPolicy
from cns.ingestion.heuristic import ExtractorSettings, HeuristicExtractor
from cns.workflow import CNSWorkflowManager
from tests.ingestion.ingest_helpers import DRIFT_TEXT


def test_the_old_names_are_the_config_classes() -> None:
    assert ExtractorSettings is ExtractionConfig and NLIPolicy is EdgeNLIConfig
    assert ExtractorSettings(max_claims=3).max_claims == 3
    assert ExtractionConfig() == CNSConfig().extraction


def test_the_environment_reaches_the_extractor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNS_MODELS__EMBEDDING_BACKEND", "fake")
    monkeypatch.setenv("CNS_MODELS__NLI_BACKEND", "fake")
    monkeypatch.setenv("CNS_EXTRACTION__MAX_CLAIMS", "2")
    monkeypatch.setenv("CNS_EXTRACTION__NLI__CERTAIN", "0.95")
    manager = CNSWorkflowManager(CNSConfig())
    extractor = manager.extractor
    assert isinstance(extractor, HeuristicExtractor)
    assert extractor.settings.max_claims == 2 and extractor.settings.nli.certain == 0.95
    sno = manager.ingest_and_evaluate(DRIFT_TEXT, "drift.txt")
    assert sno.reasoning_graph.number_of_nodes() - 1 == 2  # the root plus the two claims


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"max_claims": 0}, "extraction.max_claims"),
        ({"nli": {"contradict": 1.5}}, "extraction.nli.contradict"),
        ({"min_words": 20, "max_words": 10}, "extraction"),
        ({"max_claim": 3}, "extraction.max_claim"),
    ],
)
def test_invalid_extraction_settings_fail_naming_the_key(values: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        CNSConfig(extraction=values)
    assert key in str(info.value)


def test_the_opposition_rule_reads_its_thresholds() -> None:
    policy = EdgeNLIConfig(contradict=0.6, margin=0.2, certain=0.8)
    assert policy.opposes(0.1, 0.65, corroborated=True)
    assert not policy.opposes(0.1, 0.65, corroborated=False)  # needs a discourse signal below `certain`
    assert policy.opposes(0.1, 0.85, corroborated=False)
    assert not policy.opposes(0.5, 0.65, corroborated=True)  # margin over entailment too small
