"""Measure NLI backends on the public splits: the service behind ``cns eval models``.

Each backend is loaded through :func:`cns.models.load_nli` exactly as the product loads it, then
scored by :func:`cns.models.evaluation.evaluate` on the same pairs. The original chirality
term ``1 − cos(H_a, H_b)`` is included as a baseline row (``blueprint-cosine``) so every table shows
what stance-based opposition gains over topic distance.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cns.config.settings import CNSConfig
from cns.errors import ModelUnavailableError
from cns.logging_setup import get_logger
from cns.models.factory import load_embedder, load_nli
from cns.models.precision import resolve_precision
from cns.ports import Embedder, FloatArray, NLIModel

log = get_logger(__name__)
BASELINE = "blueprint-cosine"


class CosineAsNLI:
    """The cosine baseline: p_contra = (1 − cos)/2, p_entail = (1 + cos)/2, ranked like 1 − cos."""

    version = "1"

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.name = f"{BASELINE}({embedder.name})"

    def predict(self, pairs: Sequence[tuple[str, str]]) -> FloatArray:
        if not pairs:
            return np.zeros((0, 3), dtype=np.float32)
        texts = sorted({t for pair in pairs for t in pair})
        vectors = self.embedder.encode(texts)
        row = {t: i for i, t in enumerate(texts)}
        a = vectors[[row[p] for p, _ in pairs]]
        b = vectors[[row[h] for _, h in pairs]]
        cos = np.clip((a * b).sum(axis=1), -1.0, 1.0)
        result: FloatArray = np.stack([(1 + cos) / 2, np.zeros_like(cos), (1 - cos) / 2], axis=1).astype(
            np.float32
        )
        return result


def _load(backend: str, config: CNSConfig) -> NLIModel:
    if backend == BASELINE:
        return CosineAsNLI(load_embedder(config))
    if backend.startswith("embedded@"):
        return _embedded_version(backend.partition("@")[2], config)
    return load_nli(backend, config)


def _embedded_version(where: str, config: CNSConfig) -> NLIModel:
    """``embedded@v1`` (a folder under the package's weights) or ``embedded@/path/to/weights``.

    Why: a new model is judged against the one it replaces in the same run, on the same machine;
    the source repository keeps earlier versions' folders for exactly that (an installed package
    ships only the current weights, to stay small).
    """
    from cns.models.nli_embedded import DEFAULT_WEIGHTS_DIR, EmbeddedNLI

    path = Path(where)
    if not path.is_absolute() and not path.exists():
        path = DEFAULT_WEIGHTS_DIR / where
    if not path.is_dir():
        raise ModelUnavailableError(
            f"no embedded NLI weights folder {where!r} (looked at {path}); earlier versions are kept "
            "in a source checkout of cns, not in an installed package"
        )
    return EmbeddedNLI(path, precision=resolve_precision(config.models.nli_precision))


def evaluate_backends(
    backends: Sequence[str], config: CNSConfig, *, split: str = "test"
) -> dict[str, dict[str, Any]]:
    """Metrics per backend (see :func:`cns.models.evaluation.evaluate`) plus the load time."""
    from cns.models.evaluation import evaluate

    # measure the models, not the caches: judgements cached by an earlier run would inflate pairs/s
    models = config.models.model_copy(update={"nli_cache": False, "embedding_cache": False})
    config = config.model_copy(update={"models": models})
    results: dict[str, dict[str, Any]] = {}
    for backend in backends:
        start = time.perf_counter()
        model = _load(backend, config)
        warm_up = getattr(model, "warm_up", None)
        if callable(warm_up):
            warm_up()
        load_seconds = time.perf_counter() - start
        log.info(
            "eval.backend_loaded", backend=backend, model=model.name, load_seconds=round(load_seconds, 3)
        )
        metrics: dict[str, Any] = dict(evaluate(model, split))  # type: ignore[arg-type]
        metrics["load_seconds"] = load_seconds
        metrics["model"] = f"{model.name}@{model.version}"
        results[backend] = metrics
    return results
