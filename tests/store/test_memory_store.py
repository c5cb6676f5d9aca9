"""The in-memory reference store: the contract every store shares, without a database."""

from __future__ import annotations

import pytest

from cns.errors import StoreError
from cns.store.memory import InMemorySNOStore, InMemoryStore
from cns.testing.contracts import sample_sno
from tests.store.repository_contract import RepositoryContract


class TestInMemoryRepositoryContract(RepositoryContract):
    @pytest.fixture
    def store(self) -> InMemoryStore:
        return InMemoryStore()


def test_values_handed_out_are_copies() -> None:
    store = InMemoryStore()
    sno = sample_sno("copied")
    store.snos.put(sno)
    job, _ = store.jobs.create_job("ingest", {"n": 1})
    job.payload["n"] = 2
    got = store.jobs.get_job(job.job_id)
    assert got is not None and got.payload == {"n": 1}
    changes = store.snos.changes_since(0).changes
    assert changes[0].embedding is not None
    changes[0].embedding[:] = 0.0
    again = store.snos.changes_since(0).changes[0].embedding
    assert again is not None and again.any()


def test_the_sno_store_of_a_manager_is_the_sno_repository_on_its_own_state() -> None:
    first, second = InMemorySNOStore(), InMemorySNOStore()
    first.put(sample_sno("only in the first"))
    assert len(first) == 1 and len(second) == 0 and first.current_seq() == 1


def test_an_sno_repository_on_its_own_records_document_ids_without_documents() -> None:
    alone, composed = InMemorySNOStore(), InMemoryStore()
    sno = sample_sno("from a document")
    sno.metadata["document_id"] = "d" * 64
    alone.put(sno)
    assert alone.count_document_snos() == 1
    with pytest.raises(StoreError, match="put_document"):
        composed.snos.put(sno)
