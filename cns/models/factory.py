"""Build model backends from configuration: ``load_embedder``, ``load_nli``, ``load_llm``.

Backends are chosen by name (``models.embedding_backend``, ``models.nli_backend``,
``llm.backend``). Heavy libraries are imported only when a real backend is built, so the fakes
stay fast. ``auto`` NLI uses ``transformers`` when its weights are available locally (a folder
or the Hugging Face cache — never a download) and otherwise the shipped ``embedded`` model, with
a warning that names the backend actually used.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from cns.config.backends import backend_names, unknown_backend_message
from cns.config.settings import CNSConfig
from cns.errors import ConfigError
from cns.logging_setup import get_logger
from cns.models.precision import resolve_precision, version_suffix
from cns.ports import Embedder, LLMClient, NLIModel

log = get_logger(__name__)

#: The NLI backends this factory builds: the registry's (cns/config/backends.py).
NLI_BACKENDS = backend_names("nli")


def load_embedder(config: CNSConfig | None = None, *, backend: str | None = None) -> Embedder:
    """The configured embedder; its real output dimension is checked against ``embedding_dim``."""
    config = config or CNSConfig()
    chosen = backend or config.models.embedding_backend
    if chosen == "fake":
        from cns.testing.fakes import HashEmbedder

        return HashEmbedder(config.embedding_dim)
    if chosen == "sentence-transformers":
        from cns.models.embedder_st import SentenceTransformerEmbedder

        embedder = SentenceTransformerEmbedder(
            config.models.embedding,
            device=config.models.device,
            batch_size=config.models.batch_size,
            num_threads=config.models.num_threads,
            expected_dim=config.embedding_dim,
        )
        if config.models.embedding_cache:
            from cns.models.embedding_cache import CachedEmbedder

            # the model loads on the first cache miss; a wrong dimension still fails here when the
            # model folder declares its size, and otherwise on first use
            embedder.check_declared_dimension()
            return CachedEmbedder(embedder, config.data_dir / "cache" / "embeddings.sqlite3")
        embedder.warm_up()
        return embedder
    raise ConfigError.for_key("models.embedding_backend", unknown_backend_message("embedding", chosen))


def _nli_cache_path(config: CNSConfig) -> Path:
    return config.data_dir / "cache" / "nli.sqlite3"


def embedded_weights_version() -> str:
    """The embedded NLI's version (sha256 prefix of its weights), computed without importing torch."""
    from cns.models.weights_info import shipped_weights_version

    return shipped_weights_version()


def _embedded(config: CNSConfig) -> NLIModel:
    def build() -> NLIModel:
        from cns.models.nli_embedded import EmbeddedNLI

        return EmbeddedNLI(
            batch_size=config.models.batch_size,
            num_threads=config.models.num_threads,
            precision=resolve_precision(config.models.nli_precision),
        )

    if not config.models.nli_cache:
        return build()
    from cns.models.nli_cache import CachedNLI

    precision = resolve_precision(config.models.nli_precision)
    version = embedded_weights_version() + version_suffix(precision)
    return CachedNLI(build, name="embedded-nli", version=version, path=_nli_cache_path(config))


def _transformers(config: CNSConfig) -> Any:
    from cns.models.nli_transformers import TransformersNLI

    return TransformersNLI(
        config.models.nli,
        device=config.models.device,
        batch_size=config.models.batch_size,
        max_length=config.models.max_length,
        num_threads=config.models.num_threads,
    )


def _fake(_config: CNSConfig) -> NLIModel:
    from cns.testing.fakes import RuleNLI

    return RuleNLI()


def _fake_slow(_config: CNSConfig) -> NLIModel:
    """Fault-injection knob for the reliability tests (``cns.testing.slow_fakes``)."""
    from cns.testing.slow_fakes import SlowRuleNLI

    return SlowRuleNLI()


def _transformers_loaded(config: CNSConfig) -> NLIModel:
    model = _transformers(config)
    model.warm_up()
    nli: NLIModel = model
    if not config.models.nli_cache:
        return nli
    from cns.models.nli_cache import CachedNLI

    return CachedNLI(lambda: nli, name=nli.name, version=nli.version, path=_nli_cache_path(config))


def _llm_nli(config: CNSConfig) -> NLIModel:
    from cns.models.nli_llm import LLMNLI

    client = load_llm(config, required=True)
    assert client is not None  # required=True raises instead of returning None
    return LLMNLI(client)


def _auto(config: CNSConfig) -> NLIModel:
    from cns.models.nli_transformers import load_locally_available

    if load_locally_available(config.models.nli):
        log.info("nli.backend_selected", backend="transformers", model=config.models.nli)
        return _transformers_loaded(config)
    log.warning(
        "nli.backend_fallback",
        requested=config.models.nli,
        backend="embedded",
        reason="transformers weights are not available locally; using the shipped embedded NLI",
    )
    return _embedded(config)


_NLI_BUILDERS: dict[str, Callable[[CNSConfig], NLIModel]] = {
    "auto": _auto,
    "embedded": _embedded,
    "transformers": _transformers_loaded,
    "llm": _llm_nli,
    "fake": _fake,
    "fake-slow": _fake_slow,
}


def load_nli(backend: str | None = None, config: CNSConfig | None = None) -> NLIModel:
    """The NLI backend named ``backend`` (default: ``models.nli_backend``)."""
    config = config or CNSConfig()
    chosen = (backend or config.models.nli_backend).lower()
    builder = _NLI_BUILDERS.get(chosen)
    if builder is None:
        raise ConfigError.for_key("models.nli_backend", unknown_backend_message("nli", chosen))
    return builder(config)


def load_llm(config: CNSConfig | None = None, *, required: bool = False) -> LLMClient | None:
    """The configured LLM client, or ``None`` when ``llm.backend`` is ``none`` (and not required)."""
    config = config or CNSConfig()
    backend = config.llm.backend
    if backend == "none":
        if required:
            raise ConfigError.for_key(
                "llm.backend", "an LLM is required here; set llm.backend and llm.base_url"
            )
        return None
    if backend == "fake":
        from cns.testing.fakes import ScriptedLLM

        return ScriptedLLM()
    from cns.models.llm_presets import HTTP_BACKENDS

    if backend in HTTP_BACKENDS:  # openai, ollama, llamacpp, vllm: presets of the one client
        from cns.models.llm_openai import OpenAICompatibleLLM

        return OpenAICompatibleLLM.from_config(config.llm)
    raise ConfigError.for_key("llm.backend", unknown_backend_message("llm", backend))
