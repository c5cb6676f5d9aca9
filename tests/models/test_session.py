"""ModelSession: per-document memo of embeddings and NLI judgements, and the sentence-vector hand-over."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from cns.models.sentence_vectors import SentenceVectors, accepts_sentence_vectors, embedder_identity
from cns.models.session import ModelSession
from cns.ports import FloatArray
from cns.testing.fakes import HashEmbedder, RuleNLI

PAIRS = [("Dogs bark loudly.", "Dogs bark."), ("A man is sleeping.", "A man is not sleeping.")]


class CountingEmbedder(HashEmbedder):
    """HashEmbedder that records every call (optionally declaring an encoder identity)."""

    def __init__(self, identity: str | None = None) -> None:
        super().__init__(32)
        self.batches: list[list[str]] = []
        if identity is not None:
            self.encoder_identity = identity
            self.max_tokens = 256

    def encode(self, texts: Sequence[str]) -> FloatArray:
        self.batches.append(list(texts))
        return super().encode(texts)


class VectorAwareNLI(RuleNLI):
    """RuleNLI that accepts ``sentence_vectors`` and records what it was given."""

    accepts_sentence_vectors = True

    def __init__(self) -> None:
        super().__init__()
        self.received: list[tuple[list[tuple[str, str]], SentenceVectors | None]] = []

    def predict(self, pairs: Sequence[tuple[str, str]], **kwargs: Any) -> FloatArray:
        self.received.append((list(pairs), kwargs.get("sentence_vectors")))
        return super().predict(pairs)


def test_outside_a_document_every_call_reaches_the_model() -> None:
    inner, nli = CountingEmbedder(), VectorAwareNLI()
    session = ModelSession(inner, nli)
    session.embedder.encode(["a b", "a b"])
    session.embedder.encode(["a b"])
    session.nli.predict(PAIRS)
    session.nli.predict(PAIRS)
    assert inner.batches == [["a b", "a b"], ["a b"]]
    assert [pairs for pairs, _ in nli.received] == [PAIRS, PAIRS]
    assert nli.received[0][1] is None  # no document, no vectors to hand over
    assert session.embedder.name == inner.name and session.nli.version == nli.version


def test_inside_a_document_each_text_and_pair_goes_to_the_model_once() -> None:
    inner, nli = CountingEmbedder(), RuleNLI()
    session = ModelSession(inner, nli)
    with session.document():
        first = session.embedder.encode(["x y", "z", "x y"])
        again = session.embedder.encode(["z", "w", "x y"])
        judged = session.nli.predict([*PAIRS, PAIRS[0]])
        rejudged = session.nli.predict(list(reversed(PAIRS)))
    assert inner.batches == [["x y", "z"], ["w"]]  # deduplicated, only new texts
    np.testing.assert_array_equal(first, HashEmbedder(32).encode(["x y", "z", "x y"]))
    np.testing.assert_array_equal(again, HashEmbedder(32).encode(["z", "w", "x y"]))
    assert nli.pairs_seen == 2
    np.testing.assert_array_equal(judged, RuleNLI().predict([*PAIRS, PAIRS[0]]))
    np.testing.assert_array_equal(rejudged, judged[[1, 0]])
    stats = session.stats
    assert (stats.encode_calls, stats.texts_encoded, stats.texts_reused) == (2, 3, 3)
    assert (stats.nli_calls, stats.pairs_judged, stats.pairs_reused) == (1, 2, 3)


def test_the_memo_ends_with_the_document_and_inner_blocks_join_it() -> None:
    inner = CountingEmbedder()
    session = ModelSession(inner, RuleNLI())
    with session.document():
        session.embedder.encode(["a"])
        with session.document():
            session.embedder.encode(["a"])
        session.embedder.encode(["a"])
    assert inner.batches == [["a"]]
    with session.document():
        session.embedder.encode(["a"])  # a new document starts from nothing
    assert inner.batches == [["a"], ["a"]]
    assert session.active is None


def test_threads_sharing_a_session_do_not_share_documents() -> None:
    inner = CountingEmbedder()
    session = ModelSession(inner, RuleNLI())
    seen_memo: list[object] = []
    with session.document():
        session.embedder.encode(["a"])
        worker = threading.Thread(target=lambda: seen_memo.append(session.active))
        worker.start()
        worker.join()
    assert seen_memo == [None]


def test_vectors_are_handed_over_only_from_an_embedder_that_names_its_encoder() -> None:
    nli = VectorAwareNLI()
    session = ModelSession(CountingEmbedder(identity="/models/minilm"), nli)
    with session.document():
        session.embedder.encode([PAIRS[0][0], PAIRS[0][1]])
        session.nli.predict(PAIRS[:1])
    ((_pairs, vectors),) = nli.received
    assert vectors is not None and vectors.encoder == "/models/minilm" and vectors.max_tokens == 256
    assert set(vectors.vectors) == {PAIRS[0][0], PAIRS[0][1]}
    assert session.embedder.encoder_identity == "/models/minilm"

    anonymous = VectorAwareNLI()
    session = ModelSession(CountingEmbedder(), anonymous)
    with session.document():
        session.embedder.encode([PAIRS[0][0]])
        session.nli.predict(PAIRS[:1])
    assert anonymous.received[0][1] is None


def test_a_model_without_the_keyword_is_called_plainly() -> None:
    plain = RuleNLI()
    assert not accepts_sentence_vectors(plain)
    session = ModelSession(CountingEmbedder(identity="/models/minilm"), plain)
    with session.document():
        session.embedder.encode(["Dogs bark loudly."])
        out = session.nli.predict(PAIRS)  # would raise TypeError if the keyword were passed
    assert out.shape == (2, 3)


def test_embedder_identity_needs_both_name_and_length() -> None:
    assert embedder_identity(HashEmbedder(8)) is None
    assert embedder_identity(CountingEmbedder(identity="/m")) == ("/m", 256)
