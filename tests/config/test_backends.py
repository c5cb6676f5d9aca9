"""One backend registry (cns/config/backends.py): the settings accept exactly its names, and the
model factory and the LLM presets build exactly them."""

from __future__ import annotations

import pytest

from cns.config import CNSConfig
from cns.config.backends import BACKENDS, backend_names, http_llm_backends
from cns.errors import ConfigError
from cns.models import factory
from cns.models.llm_presets import HTTP_BACKENDS, PRESETS


def test_the_factory_builds_every_registered_nli_backend_and_no_other() -> None:
    assert set(factory._NLI_BUILDERS) == set(backend_names("nli")) == set(factory.NLI_BACKENDS)


def test_the_llm_presets_are_the_registered_http_backends() -> None:
    assert tuple(PRESETS) == HTTP_BACKENDS == http_llm_backends()
    assert set(backend_names("llm")) - set(http_llm_backends()) == {"none", "fake"}


@pytest.mark.parametrize(
    ("section", "key", "setting"),
    [
        ("models", "embedding_backend", "models.embedding_backend"),
        ("models", "nli_backend", "models.nli_backend"),
        ("llm", "backend", "llm.backend"),
    ],
)
def test_every_registered_name_is_accepted_and_others_are_refused(
    section: str, key: str, setting: str
) -> None:
    kind = {"embedding_backend": "embedding", "nli_backend": "nli", "backend": "llm"}[key]
    for name in backend_names(kind):  # type: ignore[arg-type]
        assert getattr(getattr(CNSConfig(**{section: {key: name}}), section), key) == name
    assert getattr(getattr(CNSConfig(**{section: {key: " FAKE "}}), section), key) == "fake"
    with pytest.raises(ConfigError) as info:
        CNSConfig(**{section: {key: "magic"}})
    assert info.value.details["key"] == setting
    assert all(name in str(info.value) for name in backend_names(kind))


def test_a_backend_name_the_factory_does_not_know_names_the_registered_ones() -> None:
    config = CNSConfig(models={"embedding_backend": "fake", "nli_backend": "fake"})
    with pytest.raises(ConfigError, match="expected one of: sentence-transformers, fake"):
        factory.load_embedder(config, backend="bogus")
    with pytest.raises(ConfigError, match="expected one of: auto, embedded"):
        factory.load_nli("bogus", config)


def test_every_kind_has_a_fake_for_offline_runs() -> None:
    assert all(any(b.fake for b in backends) for backends in BACKENDS.values())
