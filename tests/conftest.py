"""Shared fixtures: an isolated environment for every test and small SNO factories."""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import structlog

from cns.cli.output import Verbosity, configure_output
from cns.config import CNSConfig, reset_config_cache
from cns.core.evidence import EvidenceItem
from cns.core.sno import StructuredNarrativeObject
from cns.testing.fakes import HashEmbedder, RuleNLI

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No CNS_* variable of the developer's shell leaks in; data goes to a temp dir; RNGs seeded."""
    for key in list(os.environ):
        if key.upper().startswith("CNS_"):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("CNS_DATA_DIR", str(tmp_path / "cns-data"))
    random.seed(0)
    np.random.seed(0)
    reset_config_cache()
    yield
    reset_config_cache()
    _reset_logging()
    configure_output(json_lines=False, verbosity=Verbosity.NORMAL)  # a CLI test may have set JSON lines


def _reset_logging() -> None:
    """Undo configure_logging() of a test: its stream may be a closed StringIO."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == "cns-structlog":
            root.removeHandler(handler)
    structlog.reset_defaults()


@pytest.fixture
def fake_config() -> CNSConfig:
    """A config whose model backends are the deterministic fakes."""
    return CNSConfig(models={"embedding_backend": "fake", "nli_backend": "fake"})


@pytest.fixture
def embedder() -> HashEmbedder:
    return HashEmbedder(384)


@pytest.fixture
def nli() -> RuleNLI:
    return RuleNLI()


def make_sno(
    hypothesis: str,
    claims: list[str] = (),  # type: ignore[assignment]
    evidence: list[tuple[str, str]] = (),  # type: ignore[assignment]
    *,
    embedder: HashEmbedder | None = None,
    trust: float | None = None,
    sno_id: str | None = None,
) -> StructuredNarrativeObject:
    """An SNO whose claims all support the root, with (content, source_id) evidence."""
    sno = StructuredNarrativeObject(hypothesis, sno_id=sno_id, trust_score=trust)
    for text in claims:
        cid = sno.add_claim(text)
        sno.add_reasoning_edge(cid, "root", "supports")
    for content, source in evidence:
        sno.add_evidence(EvidenceItem(content, source_id=source))
    if embedder is not None:
        sno.set_embedding(embedder.encode([hypothesis])[0])
    return sno
