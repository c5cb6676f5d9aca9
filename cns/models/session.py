"""Per-document model memo: every text is embedded once and every NLI pair judged once per document.

Why: ingesting one document asks the models the same questions several times — the extractor
embeds the candidate sentences, the grounding critic embeds claims and evidence again to pick its
top-k, the edge typer and the grounding critic both judge (claim, hypothesis) pairs, and the
embedded NLI versions that have a cosine fusion re-encode every sentence for it. Embeddings and NLI judgements are
pure functions of the texts and the model, so inside a :meth:`ModelSession.document` block the
wrapped models answer repeats from memory, send only new inputs to the real model (deduplicated,
in one call), and hand the document's sentence vectors to an NLI model that can use them
(:mod:`cns.models.sentence_vectors`).

The memo lives in a :class:`contextvars.ContextVar`, so threads sharing one manager never see each
other's documents, and it is dropped when the block ends: nothing is kept across documents, which
is what the persistent caches are for. Outside a block the wrappers pass every call straight through.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import numpy as np

from cns.models.sentence_vectors import SentenceVectors, accepts_sentence_vectors, embedder_identity
from cns.ports import Embedder, FloatArray, NLIModel


@dataclass
class _Memo:
    vectors: dict[str, FloatArray] = field(default_factory=dict)
    judgements: dict[tuple[str, str], FloatArray] = field(default_factory=dict)


@dataclass
class SessionStats:
    """Calls that reached the real models, and the inputs answered from the memo (for tests/benchmarks)."""

    encode_calls: int = 0
    texts_encoded: int = 0
    texts_reused: int = 0
    nli_calls: int = 0
    pairs_judged: int = 0
    pairs_reused: int = 0


class ModelSession:
    """Owns the wrapped embedder and NLI model and the per-document memo they share."""

    def __init__(self, embedder: Embedder, nli: NLIModel) -> None:
        self._memo: ContextVar[_Memo | None] = ContextVar(f"cns_model_session_{id(self)}", default=None)
        self.stats = SessionStats()
        self.embedder = SessionEmbedder(embedder, self)
        self.nli = SessionNLI(nli, self)

    @property
    def active(self) -> _Memo | None:
        """The current document's memo, or ``None`` outside a :meth:`document` block."""
        return self._memo.get()

    @contextmanager
    def document(self) -> Iterator[None]:
        """Share results between the calls made inside this block (re-entrant: an inner block joins)."""
        if self._memo.get() is not None:
            yield
            return
        token = self._memo.set(_Memo())
        try:
            yield
        finally:
            self._memo.reset(token)

    def sentence_vectors(self) -> SentenceVectors | None:
        """The document's vectors so far, labelled with the embedder that made them (if it says)."""
        memo = self._memo.get()
        identity = embedder_identity(self.embedder.inner)
        if memo is None or identity is None or not memo.vectors:
            return None
        return SentenceVectors(identity[0], identity[1], memo.vectors)


class SessionEmbedder:
    """An :class:`~cns.ports.Embedder` that encodes each distinct text once per document."""

    def __init__(self, inner: Embedder, session: ModelSession) -> None:
        self.inner = inner
        self._session = session

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def version(self) -> str:
        return self.inner.version

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    @property
    def encoder_identity(self) -> str | None:
        identity = embedder_identity(self.inner)
        return identity[0] if identity else None

    @property
    def max_tokens(self) -> int | None:
        identity = embedder_identity(self.inner)
        return identity[1] if identity else None

    def encode(self, texts: Sequence[str]) -> FloatArray:
        memo = self._session.active
        if memo is None or not texts:
            return self.inner.encode(texts)
        missing = [t for t in dict.fromkeys(texts) if t not in memo.vectors]
        stats = self._session.stats
        if missing:
            vectors = np.asarray(self.inner.encode(missing), dtype=np.float32)
            memo.vectors.update(zip(missing, vectors, strict=True))
            stats.encode_calls += 1
            stats.texts_encoded += len(missing)
        stats.texts_reused += len(texts) - len(missing)
        return np.stack([memo.vectors[t] for t in texts]).astype(np.float32)


class SessionNLI:
    """An :class:`~cns.ports.NLIModel` that judges each distinct pair once per document."""

    def __init__(self, inner: NLIModel, session: ModelSession) -> None:
        self.inner = inner
        self._session = session

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def version(self) -> str:
        return self.inner.version

    def predict(self, pairs: Sequence[tuple[str, str]]) -> FloatArray:
        memo = self._session.active
        if memo is None or not pairs:
            return self.inner.predict(pairs)
        keys = [(str(p), str(h)) for p, h in pairs]
        missing = [k for k in dict.fromkeys(keys) if k not in memo.judgements]
        stats = self._session.stats
        if missing:
            vectors = self._session.sentence_vectors()
            if vectors is not None and accepts_sentence_vectors(self.inner):
                raw = self.inner.predict(missing, sentence_vectors=vectors)  # type: ignore[call-arg]
            else:
                raw = self.inner.predict(missing)
            memo.judgements.update(zip(missing, np.asarray(raw, dtype=np.float32), strict=True))
            stats.nli_calls += 1
            stats.pairs_judged += len(missing)
        stats.pairs_reused += len(keys) - len(missing)
        return np.stack([memo.judgements[k] for k in keys]).astype(np.float32)
