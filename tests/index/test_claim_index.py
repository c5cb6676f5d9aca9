"""The claim index follows the change feed: new claims embedded once, a re-score costs nothing,
changed and deleted narratives leave, and a saved index is loaded instead of embedded again."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cns.config.settings import IndexConfig
from cns.core.sno import SNOStatus
from cns.index.claims import ClaimIndex, ClaimKey
from cns.index.corpus import CorpusIndex
from cns.store.memory import InMemorySNOStore
from cns.testing.contracts import sample_sno
from cns.testing.fakes import HashEmbedder
from tests.api.api_helpers import config_for

MODEL = "fake:hash-8"


def claims(index: ClaimIndex) -> list[tuple[str, str]]:
    return sorted((k.sno_id, k.claim_id) for k in map(ClaimKey.parse, index.index.ids()))


def test_claims_follow_admissions_rescores_edits_and_deletions() -> None:
    store, embedder = InMemorySNOStore(), HashEmbedder(8)
    index = ClaimIndex(store, embedder, IndexConfig(), dimension=8)
    first, second = sample_sno("first", seed=1), sample_sno("second", seed=2)
    store.put_many([first, second])
    assert index.sync() == 2 and len(index) == 4 and index.embedded == 4  # two claims each, not the root
    first.trust_score, first.status = 0.9, SNOStatus.ACTIVE  # a re-score: same claims
    store.put(first)
    assert index.sync() == 1 and index.embedded == 4
    second.add_claim("a third premise about second")
    store.put(second)
    index.sync()
    assert index.embedded == 7 and len(index) == 5  # second's three claims embedded again
    store.delete(first.sno_id)
    index.sync()
    assert {sno_id for sno_id, _ in claims(index)} == {second.sno_id}
    [(best, score)] = index.search(embedder.encode(["a third premise about second"])[0], 1)
    assert best.sno_id == second.sno_id and second.get_claim(best.claim_id).content.startswith("a third")
    assert score == pytest.approx(1.0, abs=1e-5)


def test_a_saved_claim_index_is_loaded_not_embedded_again(tmp_path: Path) -> None:
    store, path = InMemorySNOStore(), tmp_path / "claims.faiss"
    store.put_many([sample_sno("first", seed=1), sample_sno("second", seed=2)])
    built = ClaimIndex(store, HashEmbedder(8), IndexConfig(), dimension=8, path=path, model_name=MODEL)
    assert built.embedded == 4 and path.is_file()  # built from the store at open, and saved
    later = sample_sno("third", seed=3)
    store.put(later)
    built.sync()
    built.save()
    loaded = ClaimIndex(store, HashEmbedder(8), IndexConfig(), dimension=8, path=path, model_name=MODEL)
    assert loaded.embedded == 0 and loaded.synced_seq == 3 and claims(loaded) == claims(built)
    store.delete(later.sno_id)
    loaded.sync()  # the id map was restored from the file: the deleted SNO's claims can leave
    assert later.sno_id not in {sno_id for sno_id, _ in claims(loaded)}
    path.write_bytes(b"garbage")
    healed = ClaimIndex(store, HashEmbedder(8), IndexConfig(), dimension=8, path=path, model_name=MODEL)
    assert healed.embedded == 4 and claims(healed) == claims(loaded)


def test_the_corpus_index_holds_every_status_and_no_root_claim(tmp_path: Path) -> None:
    store = InMemorySNOStore()
    archived = sample_sno("archived one", trust=0.1, status="archived", seed=4)
    store.put_many([sample_sno("candidate one", seed=5), archived])
    corpus = CorpusIndex.open(store, HashEmbedder(8), config_for(tmp_path, embedding_dim=8))
    corpus.sync()
    assert len(corpus.narratives) == 2 and len(corpus.claims) == 4  # no status or trust filter
    assert all(claim_id != "root" for _, claim_id in claims(corpus.claims))
    assert not corpus.persisted
    assert np.allclose(corpus.narratives.index.get(archived.sno_id), archived.hypothesis_embedding)
