from __future__ import annotations

import numpy as np
import pytest

from cns.config import CNSConfig
from cns.errors import ConfigError, EmbeddingDimensionError
from cns.models import load_embedder, load_llm, load_nli
from cns.testing.fakes import HashEmbedder, RuleNLI, ScriptedLLM


def test_fakes_are_selectable_from_config(fake_config: CNSConfig) -> None:
    assert isinstance(load_embedder(fake_config), HashEmbedder)
    assert isinstance(load_nli(config=fake_config), RuleNLI)
    assert load_llm(fake_config) is None
    assert isinstance(load_llm(CNSConfig(llm={"backend": "fake"})), ScriptedLLM)
    with pytest.raises(ConfigError, match="llm.backend"):
        load_llm(fake_config, required=True)


def test_fake_embedder_is_deterministic_and_normalised() -> None:
    a = HashEmbedder(32).encode(["plates move", "plates move", "stars"])
    b = HashEmbedder(32).encode(["plates move"])
    assert np.allclose(a[0], b[0]) and np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert float(a[0] @ a[2]) < 0.99


def test_rule_nli_rows_are_probabilities() -> None:
    probs = RuleNLI().predict(
        [("A man is sleeping.", "A man is not sleeping."), ("Dogs bark loudly.", "Dogs bark.")]
    )
    assert probs.shape == (2, 3) and np.allclose(probs.sum(axis=1), 1.0)
    assert probs[0].argmax() == 2 and probs[1].argmax() == 0


def test_real_minilm_embedder_loads_offline_and_checks_dimension() -> None:
    embedder = load_embedder(CNSConfig())
    vectors = embedder.encode(["Continents drift.", "Continents are fixed."])
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    with pytest.raises(EmbeddingDimensionError, match="embedding_dim"):
        load_embedder(CNSConfig(embedding_dim=768))


def test_unknown_nli_backend_is_named() -> None:
    with pytest.raises(ConfigError, match="models.nli_backend"):
        load_nli("nonsense", CNSConfig())
