"""Hand sentence embeddings that ingestion already computed to an NLI model that needs them.

Why: the embedded NLI fuses its cross-encoder logits with the cosine of the *base*
all-MiniLM-L6-v2 sentence embeddings of premise and hypothesis (docs/models.md). During ingestion
the default embedder is that very model and has already encoded every claim and evidence sentence,
so recomputing the vectors inside the NLI cost about a third of ingestion time for nothing.

The hand-over is opt-in on both sides and checked: an embedder names the encoder it runs
(``encoder_identity``), an NLI model that can use vectors says so (``accepts_sentence_vectors``)
and uses them only when the identity matches its own base encoder; anything else is ignored and the
model computes what it needs itself, so a mismatch can cost time but never change a result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class SentenceVectors:
    """L2-normalised mean-pooled sentence embeddings by text, and the encoder that produced them.

    ``max_tokens`` is the encoder's truncation length (special tokens included): a consumer that
    truncates differently may use a vector only for texts shorter than both limits.
    """

    encoder: str
    max_tokens: int
    vectors: Mapping[str, npt.NDArray[np.float32]]


def encoder_identity(model_path: str | Path) -> str:
    """A comparable identity of a local model folder (its resolved path), or the name as given."""
    path = Path(model_path)
    return str(path.resolve()) if path.is_dir() else str(model_path)


def embedder_identity(embedder: object) -> tuple[str, int] | None:
    """``(encoder_identity, max_tokens)`` that an embedder (or a wrapper) declares, else ``None``."""
    identity = getattr(embedder, "encoder_identity", None)
    max_tokens = getattr(embedder, "max_tokens", None)
    if isinstance(identity, str) and identity and isinstance(max_tokens, int) and max_tokens > 0:
        return identity, max_tokens
    return None


def accepts_sentence_vectors(model: object) -> bool:
    """Whether ``model.predict`` takes a ``sentence_vectors=`` keyword (see :class:`SentenceVectors`)."""
    return bool(getattr(model, "accepts_sentence_vectors", False))
