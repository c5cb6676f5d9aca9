"""``celery -A tests.service.cached_worker_app worker``: the real worker, its fake models behind the
persistent caches.

Real backends (the embedded NLI, sentence-transformers) write their judgements and vectors to
SQLite caches under ``data_dir``; the fakes do not, so a test of what the caches do on a full disk
needs the fakes wrapped the same way. The model loaders of :mod:`cns.models` are swapped here (test
code), exactly as the factory wraps the real backends; the product code path stays untouched.
"""

from __future__ import annotations

from typing import Any

import cns.models as models
from cns.config.settings import CNSConfig, get_config
from cns.models.embedding_cache import CachedEmbedder
from cns.models.nli_cache import CachedNLI
from cns.testing.fakes import HashEmbedder, RuleNLI


def _cached_embedder(config: CNSConfig | None = None, **_: Any) -> CachedEmbedder:
    config = config or get_config()
    return CachedEmbedder(
        HashEmbedder(config.embedding_dim), config.data_dir / "cache" / "embeddings.sqlite3"
    )


def _cached_nli(*_: Any, config: CNSConfig | None = None, **__: Any) -> CachedNLI:
    config = config or get_config()
    nli = RuleNLI()
    return CachedNLI(
        lambda: nli, name=nli.name, version=nli.version, path=config.data_dir / "cache" / "nli.sqlite3"
    )


# the runtime's manager imports its loaders from cns.models when it first needs a model
models.load_embedder = _cached_embedder  # type: ignore[assignment]
models.load_nli = _cached_nli  # type: ignore[assignment]

from cns.tasks import app  # noqa: E402

__all__ = ["app"]
