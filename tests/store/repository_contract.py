"""The contract of every store: each repository of :mod:`cns.ports`, on every implementation.

Not a test module itself (no ``test_`` prefix): ``test_memory_store.py``, ``test_sqlite_store.py``
and ``test_postgres_store.py`` subclass :class:`RepositoryContract` with their own ``store``
fixture — the in-memory reference, a SQLite file and a PostgreSQL database — so the three are
held to the same behaviour, test for test.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cns.core.records import (
    ApiKeyRecord,
    JobClaim,
    JobCompletion,
    JobState,
    NewDocument,
    PairRecord,
    SNOQuery,
)
from cns.core.sno import StructuredNarrativeObject
from cns.errors import JobError, SNONotFoundError, StoreError
from cns.ports import (
    ApiKeyRepository,
    DocumentRepository,
    JobRepository,
    MarkerRepository,
    PagedReads,
    PairRepository,
    SNORepository,
)
from cns.store.memory import InMemoryStore
from cns.store.rules import document_id_for
from cns.store.sql import SQLStore, pair_id_for
from cns.testing.contracts import sample_sno
from tests.store.lease_contract import LeaseContract

Store = InMemoryStore | SQLStore


def evaluated(sno: StructuredNarrativeObject, critics: dict[str, float]) -> StructuredNarrativeObject:
    sno.evaluation = {
        "trust_score": 0.5,
        "critic_results": {
            name: {"critic": name, "score": score, "confidence": 0.8, "models": {"nli": "fake@1"}}
            for name, score in critics.items()
        },
    }
    return sno


def synthesis_of(a: str, b: str, hypothesis: str, *, with_metadata: bool = True) -> StructuredNarrativeObject:
    meta: dict[str, Any] = {"source_sno_a": a, "source_sno_b": b} if with_metadata else {}
    return StructuredNarrativeObject(hypothesis, metadata=meta)


class RepositoryContract(LeaseContract):
    def test_every_repository_implements_its_port(self, store: Store) -> None:
        assert isinstance(store.snos, SNORepository)
        assert isinstance(store.documents, DocumentRepository)
        assert isinstance(store.pairs, PairRepository)
        assert isinstance(store.jobs, JobRepository)
        assert isinstance(store.api_keys, ApiKeyRepository)
        assert isinstance(store.markers, MarkerRepository)
        assert isinstance(store.reads, PagedReads)

    def test_documents_are_content_addressed(self, store: Store) -> None:
        first = store.documents.put_document("Plates  move\nslowly.", source="a.txt", metadata={"lang": "en"})
        again = store.documents.put_document("Plates move slowly.", source="b.txt")
        assert first.document_id == again.document_id == document_id_for("Plates move slowly.")
        assert again.source == "b.txt" and again.metadata == {}
        assert first.char_count == len("Plates  move\nslowly.")
        assert store.documents.document_exists(first.document_id)
        assert not store.documents.document_exists("0" * 64)
        assert store.documents.get_document("0" * 64) is None
        assert [d.document_id for d in store.documents.list_documents()] == [first.document_id]
        assert store.reads.counts()["documents"] == 1
        got = store.documents.get_document(first.document_id)
        assert got is not None and got.created_at.tzinfo is not None

    def test_sno_links_to_its_document(self, store: Store) -> None:
        doc = store.documents.put_document("Light is a wave.", source="wave.md")
        sno = sample_sno("Light is a wave")
        sno.metadata["document_id"] = doc.document_id
        store.snos.put(sno)
        assert store.documents.snos_of_document(doc.document_id) == [sno.sno_id]
        orphan = sample_sno("No such document", seed=3)
        with pytest.raises(StoreError, match="put_document"):
            store.snos.put(orphan, document_id="f" * 64)
        assert len(store.snos) == 1

    def test_a_re_put_replaces_the_evaluation(self, store: Store) -> None:
        sno = evaluated(sample_sno("C"), {"grounding": 0.6, "logic": 0.9, "novelty": 0.3})
        store.snos.put(sno)
        assert set(store.snos.get(sno.sno_id).evaluation["critic_results"]) == {
            "grounding",
            "logic",
            "novelty",
        }  # type: ignore[index]
        store.snos.put(evaluated(sno, {"grounding": 0.7}))
        assert set(store.snos.get(sno.sno_id).evaluation["critic_results"]) == {"grounding"}  # type: ignore[index]
        assert store.snos.get(sno.sno_id).evaluation["critic_results"]["grounding"]["score"] == 0.7  # type: ignore[index]

    def test_malformed_evaluation_is_refused_with_a_clear_error(self, store: Store) -> None:
        sno = sample_sno("bad evaluation")
        sno.evaluation = {"critic_results": {"logic": {"confidence": 0.5}}}
        with pytest.raises(StoreError, match=r"critic_results\['logic'\] has no score"):
            store.snos.put(sno)
        assert len(store.snos) == 0

    def test_find_by_content_hash(self, store: Store) -> None:
        one, two = sample_sno("same thing", seed=1), sample_sno("same thing", seed=1)
        store.snos.put(one)
        store.snos.put(two)
        assert store.snos.find_by_content_hash(one.content_hash()) == sorted([one.sno_id, two.sno_id])

    def test_seq_is_monotonic_and_deletions_are_visible(self, store: Store) -> None:
        a, b = sample_sno("A", seed=1), sample_sno("B", seed=2)
        store.snos.put(a)
        store.snos.put(b)
        store.snos.put(a)  # a moves after b
        changes = store.snos.snos_since(0)
        assert [c.sno_id for c in changes] == [b.sno_id, a.sno_id]
        assert changes[0].seq < changes[1].seq
        assert changes[1].embedding is not None and changes[1].embedding.shape == (8,)
        assert changes[1].status == "candidate" and not changes[1].deleted
        mark = store.snos.current_seq()
        assert mark == changes[-1].seq
        assert store.snos.delete(b.sno_id)
        after = store.snos.snos_since(mark)
        assert [(c.sno_id, c.deleted, c.embedding) for c in after] == [(b.sno_id, True, None)]
        store.snos.put(b)  # re-stored: the tombstone goes, the live row is the latest state
        latest = store.snos.snos_since(mark)
        assert [(c.sno_id, c.deleted) for c in latest] == [(b.sno_id, False)]
        assert store.reads.counts()["tombstones"] == 0
        assert store.snos.snos_since(store.snos.current_seq()) == []

    def test_changes_since_pages_end_where_a_reader_resumes(self, store: Store) -> None:
        snos = [sample_sno(f"p{i}", seed=i) for i in range(5)]
        for sno in snos:
            store.snos.put(sno)
        store.snos.delete(snos[1].sno_id)  # seq 6: a tombstone among live rows
        first = store.snos.changes_since(0, limit=3)
        assert not first.complete and first.through == first.changes[-1].seq == 4
        rest = store.snos.changes_since(first.through, limit=3)
        assert rest.complete and rest.through == store.snos.current_seq() == 6
        assert [c.seq for c in first.changes + rest.changes] == [1, 3, 4, 5, 6]
        assert rest.changes[-1].deleted and rest.changes[-1].sno_id == snos[1].sno_id
        with pytest.raises(ValueError, match="limit"):
            store.snos.changes_since(0, limit=0)

    def test_snos_since_pages_in_seq_order(self, store: Store) -> None:
        snos = [sample_sno(f"s{i}", seed=i) for i in range(7)]
        for sno in snos:
            store.snos.put(sno)
        store.snos.delete(snos[0].sno_id)
        first = store.snos.snos_since(0, limit=3)
        rest = store.snos.snos_since(first[-1].seq)
        seqs = [c.seq for c in first + rest]
        assert seqs == sorted(seqs) and len(seqs) == len(set(seqs)) == 7
        assert len(first) == 3
        assert first[0].sno_id == snos[1].sno_id
        assert rest[-1].deleted and rest[-1].sno_id == snos[0].sno_id

    def test_failed_batch_stores_nothing(self, store: Store) -> None:
        good = sample_sno("stored before", seed=1)
        store.snos.put(good)
        batch = [sample_sno(f"batch {i}", seed=10 + i) for i in range(3)]
        batch[2].metadata["document_id"] = "e" * 64  # not stored: the third put raises
        with pytest.raises(StoreError):
            store.snos.put_many(batch)
        assert len(store.snos) == 1
        assert all(len(s.evidence_keys) == 2 for s in store.snos.list())
        assert store.snos.current_seq() == 1
        with pytest.raises(SNONotFoundError):
            store.snos.get(batch[0].sno_id)
        assert store.snos.put_many(batch[:2]) == 2
        assert len(store.snos) == 3

    def test_pairs_are_unordered_and_upserted(self, store: Store) -> None:
        a, b, c = (sample_sno(h, seed=i) for i, h in enumerate("ABC"))
        for sno in (a, b, c):
            store.snos.put(sno)
        stored = store.pairs.record_pair(PairRecord(b.sno_id, a.sno_id, 0.8, 0.4, 0.5, shared=["k"]))
        assert (stored.sno_a, stored.sno_b) == tuple(sorted((a.sno_id, b.sno_id)))
        assert stored.pair_id == pair_id_for(a.sno_id, b.sno_id) == pair_id_for(b.sno_id, a.sno_id)
        store.pairs.record_pair(PairRecord(a.sno_id, b.sno_id, 0.9, 0.4, 0.7, conflicts=[{"claim": "x"}]))
        store.pairs.record_pair(PairRecord(a.sno_id, c.sno_id, 0.3, 0.1, 0.2))
        pairs = store.pairs.list_pairs()
        assert [p.potential for p in pairs] == [0.7, 0.2]
        assert pairs[0].chirality == 0.9 and pairs[0].conflicts == [{"claim": "x"}]
        assert pairs[0].found_at == stored.found_at
        assert [p.potential for p in store.pairs.list_pairs(min_potential=0.5)] == [0.7]
        assert len(store.pairs.list_pairs(sno_id=c.sno_id)) == 1
        assert store.pairs.get_pair("nope") is None
        with pytest.raises(StoreError, match="not stored"):
            store.pairs.record_pair(PairRecord(a.sno_id, "ghost", 0.5, 0.5, 0.5))
        with pytest.raises(StoreError, match="two different"):
            store.pairs.record_pair(PairRecord(a.sno_id, a.sno_id, 0.5, 0.5, 0.5))

    def test_the_whole_document_text_is_kept_and_the_first_text_stays(self, store: Store) -> None:
        text = "We argue that  continents drift.\nThe sea floor spreads."
        sno = sample_sno("We argue that continents drift.", seed=3)
        store.documents.put_with_document(sno, text, source="drift.md")
        document_id = document_id_for(text)
        assert store.documents.document_text(document_id) == text  # exactly, spaces and newlines
        store.documents.put_document(
            "We argue that continents drift. The sea floor spreads.", source="again.md"
        )
        assert store.documents.document_text(document_id) == text  # same id: the first text stays
        assert store.documents.document_text("no-such-document") is None
        store.documents.delete_document(document_id)
        assert store.documents.document_text(document_id) is None  # deleted with its document

    def test_sno_heads_give_source_and_hypothesis_in_one_read(self, store: Store) -> None:
        a, b = sample_sno("Continents drift", seed=1), sample_sno("Continents <b>stay</b>", seed=2)
        a.metadata["source"] = "docs/drift.md"
        for sno in (a, b):
            store.snos.put(sno)
        heads = store.reads.sno_heads([a.sno_id, b.sno_id, "gone"])
        assert set(heads) == {a.sno_id, b.sno_id}  # an id not stored is left out
        assert (heads[a.sno_id].source, heads[a.sno_id].hypothesis) == ("docs/drift.md", "Continents drift")
        assert (heads[b.sno_id].source, heads[b.sno_id].hypothesis) == (None, "Continents <b>stay</b>")
        assert store.reads.sno_heads([]) == {}

    def test_attempts_are_numbered_with_cooldowns(self, store: Store) -> None:
        a, b = sample_sno("A", seed=1), sample_sno("B", seed=2)
        store.snos.put(a)
        store.snos.put(b)
        pair = store.pairs.record_pair(PairRecord(a.sno_id, b.sno_id, 0.8, 0.4, 0.5))
        assert store.pairs.last_attempt(pair.pair_id) is None
        cooldown = datetime(2030, 1, 1, 12, tzinfo=UTC)
        first = store.pairs.record_attempt(
            pair.pair_id, accepted=False, reasons=["low trust"], cooldown_until=cooldown
        )
        second = store.pairs.record_attempt(pair.pair_id)
        assert (first.attempt_no, second.attempt_no) == (1, 2)
        assert second.finished_at is None and second.accepted is None
        done = store.pairs.finish_attempt(pair.pair_id, 2, accepted=True, result_sno_id="s1", reasons=["ok"])
        assert done.accepted is True and done.finished_at is not None
        last = store.pairs.last_attempt(pair.pair_id)
        assert last is not None and last.attempt_no == 2 and last.result_sno_id == "s1"
        assert store.pairs.list_attempts(pair.pair_id)[0].cooldown_until == cooldown
        with pytest.raises(StoreError, match="no stored pair"):
            store.pairs.record_attempt("missing-pair")
        with pytest.raises(StoreError, match="no attempt 9"):
            store.pairs.finish_attempt(pair.pair_id, 9, accepted=False)

    def test_delete_document_cascades_to_derived_data(self, store: Store) -> None:
        doc1, doc2 = (
            store.documents.put_document("first document"),
            store.documents.put_document("second document"),
        )
        a, b, c = sample_sno("A", seed=1), sample_sno("B", seed=2), sample_sno("C", seed=3)
        store.snos.put(a, document_id=doc1.document_id)
        store.snos.put(b, document_id=doc2.document_id)
        store.snos.put(c)
        s1 = synthesis_of(a.sno_id, b.sno_id, "A and B reconciled")  # lineage from metadata
        store.snos.put(s1)
        ab = store.pairs.record_pair(PairRecord(a.sno_id, b.sno_id, 0.8, 0.5, 0.6))
        store.pairs.record_attempt(ab.pair_id, accepted=True, result_sno_id=s1.sno_id)
        s2 = synthesis_of("", "", "S1 and C reconciled", with_metadata=False)  # lineage from attempts only
        store.snos.put(s2)
        s1c = store.pairs.record_pair(PairRecord(s1.sno_id, c.sno_id, 0.7, 0.5, 0.5))
        store.pairs.record_attempt(s1c.pair_id, accepted=True, result_sno_id=s2.sno_id)
        bc = store.pairs.record_pair(PairRecord(b.sno_id, c.sno_id, 0.6, 0.3, 0.4))
        store.pairs.record_attempt(bc.pair_id, accepted=False)
        mark = store.snos.current_seq()

        report = store.documents.delete_document(doc1.document_id)

        assert report.document_removed
        assert report.sno_ids == [a.sno_id]
        assert report.synthesis_ids == sorted([s1.sno_id, s2.sno_id])
        assert report.pair_ids == sorted([ab.pair_id, s1c.pair_id])
        assert report.attempts_removed == 2
        assert sorted(report.all_sno_ids) == sorted([a.sno_id, s1.sno_id, s2.sno_id])
        assert not store.documents.document_exists(doc1.document_id) and store.documents.document_exists(
            doc2.document_id
        )
        assert {s.sno_id for s in store.snos.list()} == {b.sno_id, c.sno_id}
        assert [p.pair_id for p in store.pairs.list_pairs()] == [bc.pair_id]
        assert len(store.pairs.list_attempts(bc.pair_id)) == 1
        citing = {s.sno_id for s in store.snos.list() if "doi:10.1000/shared" in s.evidence_keys}
        assert citing == {b.sno_id, c.sno_id}
        deleted = {ch.sno_id for ch in store.snos.snos_since(mark) if ch.deleted}
        assert deleted == {a.sno_id, s1.sno_id, s2.sno_id}
        counts = store.reads.counts()
        assert (counts["snos"], counts["pairs"], counts["synthesis_attempts"], counts["documents"]) == (
            2,
            1,
            1,
            1,
        )
        again = store.documents.delete_document(doc1.document_id)
        assert not again.document_removed and again.all_sno_ids == [] and again.pair_ids == []

    def test_job_lifecycle_is_idempotent(self, store: Store) -> None:
        job, created = store.jobs.create_job("ingest", {"document_id": "d1"}, idempotency_key="req-1")
        assert created and job.state is JobState.PENDING and job.attempts == 0
        same, created_again = store.jobs.create_job(
            "ingest", {"document_id": "other"}, idempotency_key="req-1"
        )
        assert not created_again and same.job_id == job.job_id and same.payload == {"document_id": "d1"}
        assert store.jobs.job_by_key("req-1") == same
        started = store.jobs.start_job(job.job_id)
        assert started.state is JobState.STARTED and started.attempts == 1
        assert store.jobs.start_job(job.job_id).attempts == 2  # a redelivery is counted
        done = store.jobs.complete_job(job.job_id, {"sno_id": "s1"})
        assert done.state is JobState.SUCCESS and done.result == {"sno_id": "s1"}
        assert store.jobs.complete_job(job.job_id, {"sno_id": "s2"}).result == {"sno_id": "s1"}
        assert store.jobs.fail_job(job.job_id, "late failure").state is JobState.SUCCESS
        assert store.jobs.start_job(job.job_id).attempts == 2  # finished jobs are not restarted
        assert store.reads.counts()["jobs_SUCCESS"] == 1
        with pytest.raises(StoreError, match="no job"):
            store.jobs.complete_job("missing", {})
        assert store.jobs.get_job("missing") is None

    def test_claim_job_counts_deliveries_up_to_the_poison_cap(self, store: Store) -> None:
        job, _ = store.jobs.create_job("ingest")
        first = store.jobs.claim_job(job.job_id, max_deliveries=2)
        assert first.started and first.job is not None
        assert first.job.state is JobState.STARTED and first.job.attempts == 1
        assert store.jobs.claim_job(job.job_id, max_deliveries=2).job.attempts == 2  # type: ignore[union-attr]
        capped = store.jobs.claim_job(job.job_id, max_deliveries=2)  # a third delivery is not counted
        assert not capped.started and capped.job == store.jobs.get_job(job.job_id)
        assert capped.job is not None and capped.job.attempts == 2
        store.jobs.complete_job(job.job_id, {"ok": True})
        done = store.jobs.claim_job(job.job_id, max_deliveries=5)
        assert not done.started and done.job is not None
        assert done.job.state is JobState.SUCCESS and done.job.attempts == 2
        assert store.jobs.claim_job("missing", max_deliveries=3) == JobClaim(None, started=False)

    def test_release_job_undoes_only_its_own_claim(self, store: Store) -> None:
        job, _ = store.jobs.create_job("ingest")
        claimed = store.jobs.claim_job(job.job_id, max_deliveries=3).job
        assert claimed is not None and claimed.attempts == 1
        later = datetime.now(UTC) + timedelta(minutes=15)
        released = store.jobs.release_job(job.job_id, attempt=1, deadline=later)
        assert released is not None and released.state is JobState.PENDING and released.attempts == 0
        assert released.deadline is not None and abs((released.deadline - later).total_seconds()) < 1
        assert store.jobs.release_job(job.job_id, attempt=1) is None  # not STARTED any more
        store.jobs.claim_job(job.job_id, max_deliveries=3)
        store.jobs.claim_job(job.job_id, max_deliveries=3)  # a second delivery claimed it since
        assert store.jobs.release_job(job.job_id, attempt=1) is None
        assert store.jobs.get_job(job.job_id).attempts == 2  # type: ignore[union-attr]
        store.jobs.complete_job(job.job_id, {"ok": True})
        assert store.jobs.release_job(job.job_id, attempt=2) is None  # a finished job stays finished
        assert store.jobs.get_job(job.job_id).state is JobState.SUCCESS  # type: ignore[union-attr]
        assert store.jobs.release_job("missing", attempt=1) is None

    def test_create_job_with_a_known_job_id_returns_the_existing_job(self, store: Store) -> None:
        first, created = store.jobs.create_job("ingest", {"n": 1}, job_id="job-1")
        other, _ = store.jobs.create_job("ingest", {"n": 2})
        again, created_again = store.jobs.create_job("ingest", {"n": 3}, job_id="job-1")
        assert created and not created_again and again == first and other.job_id != "job-1"

    def test_a_submission_stores_its_document_with_the_job(self, store: Store) -> None:
        text = "Plates move slowly. We argue they do."
        job, created = store.jobs.create_job(
            "ingest", {"n": 1}, idempotency_key="k", document=NewDocument(text, "a.txt", {"lang": "en"})
        )
        stored = store.documents.get_document(document_id_for(text))
        assert (
            created and stored is not None and (stored.source, stored.metadata) == ("a.txt", {"lang": "en"})
        )
        again, created = store.jobs.create_job(
            "ingest", {"n": 2}, idempotency_key="k", document=NewDocument("Another text.", "b.txt")
        )
        assert not created and again.job_id == job.job_id  # a replay stores nothing
        assert store.documents.get_document(document_id_for("Another text.")) is None

    def test_submit_job_stores_job_and_document_and_says_whose_document_it_was(self, store: Store) -> None:
        text = "Plates move slowly. We argue they do."
        deadline = datetime.now(UTC) + timedelta(minutes=15)
        first = store.jobs.submit_job(
            "ingest", {"n": 1}, idempotency_key="k", deadline=deadline,
            document=NewDocument(text, "a.txt", {"lang": "en"}, owner_key_id="k1"),
        )  # fmt: skip
        assert first.created and first.document_shared is False
        assert store.jobs.get_job(first.job.job_id) == first.job  # what it returned is what it stored
        assert first.job.state is JobState.PENDING and first.job.payload == {"n": 1}
        assert first.job.deadline == deadline and first.job.idempotency_key == "k"
        stored = store.documents.get_document(document_id_for(text))
        assert stored is not None and (stored.source, stored.metadata, stored.owner_key_id) == (
            "a.txt", {"lang": "en"}, "k1",
        )  # fmt: skip
        mine = store.jobs.submit_job(
            "ingest", {"n": 2}, document=NewDocument(text, "b.txt", owner_key_id="k1")
        )
        theirs = store.jobs.submit_job(
            "ingest", {"n": 3}, document=NewDocument(text, "c.txt", owner_key_id="k2")
        )
        assert (mine.created, mine.document_shared) == (True, False)
        assert (theirs.created, theirs.document_shared) == (True, True)
        assert store.documents.get_document(document_id_for(text)).source == "b.txt"  # type: ignore[union-attr]
        plain = store.jobs.submit_job("rescore", {"n": 4})
        assert plain.created and plain.document_shared is None and plain.job.kind == "rescore"

    def test_submit_job_with_a_used_key_returns_the_first_job_and_stores_nothing(self, store: Store) -> None:
        first = store.jobs.submit_job(
            "ingest", {"n": 1}, idempotency_key="key", document=NewDocument("One. Two.")
        )
        again = store.jobs.submit_job(
            "ingest", {"n": 2}, idempotency_key="key", document=NewDocument("Another text.", "b.txt")
        )
        assert not again.created and again.job == first.job and again.document_shared is None
        assert store.documents.get_document(document_id_for("Another text.")) is None
        assert store.reads.counts()["documents"] == 1

    def test_put_with_document_commits_document_sno_and_job_success_together(self, store: Store) -> None:
        text = "Coffee improves memory. A trial shows it."
        job, _ = store.jobs.create_job("ingest")
        store.jobs.claim_job(job.job_id, max_deliveries=3)
        sno = sample_sno("coffee improves memory")
        sno.metadata["document_id"] = document_id_for(text)
        done = store.documents.put_with_document(
            sno, text, source="c.txt", completes=JobCompletion(job.job_id, {"sno_id": sno.sno_id})
        )
        assert done == store.jobs.get_job(job.job_id)
        assert done is not None and done.state is JobState.SUCCESS and done.result == {"sno_id": sno.sno_id}
        assert store.documents.snos_of_document(document_id_for(text)) == [sno.sno_id]
        assert store.documents.get_document(document_id_for(text)).source == "c.txt"  # type: ignore[union-attr]
        # a job finished before keeps its first result; the SNO is still stored (an idempotent upsert)
        again = store.documents.put_with_document(
            sno, text, completes=JobCompletion(job.job_id, {"sno_id": "other"})
        )
        assert again is not None and again.result == {"sno_id": sno.sno_id}

    def test_put_with_document_stores_nothing_when_the_job_update_fails(self, store: Store) -> None:
        text = "Vaccines work. Trials agree."
        sno = sample_sno("vaccines work")
        sno.metadata["document_id"] = document_id_for(text)
        with pytest.raises(StoreError, match="no job"):
            store.documents.put_with_document(sno, text, completes=JobCompletion("missing", {}))
        assert (
            not store.snos.contains(sno.sno_id)
            and store.documents.get_document(document_id_for(text)) is None
        )
        assert store.snos.current_seq() == 0

    def test_failed_and_overdue_jobs(self, store: Store) -> None:
        past = datetime.now(UTC) - timedelta(minutes=5)
        stuck, _ = store.jobs.create_job("synthesize", deadline=past)
        fresh, _ = store.jobs.create_job("synthesize", deadline=datetime.now(UTC) + timedelta(hours=1))
        other, _ = store.jobs.create_job("find_pairs")
        store.jobs.start_job(stuck.job_id)
        assert [j.job_id for j in store.jobs.overdue_jobs()] == [stuck.job_id]
        requeued = store.jobs.requeue_job(stuck.job_id, deadline=None)
        assert requeued.state is JobState.PENDING and requeued.attempts == 1
        failed = store.jobs.fail_job(other.job_id, "boom")
        assert failed.state is JobState.FAILURE and failed.error == "boom"
        assert store.jobs.complete_job(other.job_id, {"retry": True}).state is JobState.SUCCESS
        assert {j.job_id for j in store.jobs.list_jobs(state="PENDING")} == {stuck.job_id, fresh.job_id}
        assert [j.job_id for j in store.jobs.list_jobs(kind="find_pairs")] == [other.job_id]
        assert len(store.jobs.list_jobs(limit=2)) == 2
        oldest_first = [j.job_id for j in store.jobs.list_jobs()]
        assert oldest_first[0] == stuck.job_id and len(oldest_first) == 3
        newest = store.jobs.list_jobs(limit=2, newest_first=True)  # the web pages' recent jobs
        assert [j.job_id for j in newest] == oldest_first[::-1][:2]

    # ------------------------------------------------------------------ beyond the moved SQL contract
    def test_count_contains_and_deleting_an_sno_takes_its_pairs_and_attempts(self, store: Store) -> None:
        doc = store.documents.put_document("a document")
        a, b, c = (sample_sno(h, seed=i) for i, h in enumerate("ABC"))
        store.snos.put(a, document_id=doc.document_id)
        store.snos.put_many([b, c])
        assert store.snos.count_document_snos() == 1 and store.snos.contains(b.sno_id)
        ab = store.pairs.record_pair(PairRecord(a.sno_id, b.sno_id, 0.8, 0.4, 0.5))
        bc = store.pairs.record_pair(PairRecord(b.sno_id, c.sno_id, 0.7, 0.4, 0.4))
        store.pairs.record_attempt(ab.pair_id, accepted=False)
        assert store.snos.delete(a.sno_id) and not store.snos.contains(a.sno_id)
        assert store.pairs.get_pair(ab.pair_id) is None and store.pairs.list_attempts(ab.pair_id) == []
        assert [p.pair_id for p in store.pairs.list_pairs()] == [bc.pair_id]
        assert store.snos.count_document_snos() == 0 and store.documents.document_exists(doc.document_id)
        with pytest.raises(SNONotFoundError):
            store.snos.get(a.sno_id)

    def test_a_duplicate_from_another_owner_keeps_the_first_record(self, store: Store) -> None:
        text = "Owned text. It says something."
        store.jobs.create_job("ingest", document=NewDocument(text, "first.txt", {"n": 1}, owner_key_id="k1"))
        assert store.documents.document_owner(document_id_for(text)) == (True, "k1")
        store.jobs.create_job("ingest", document=NewDocument(text, "second.txt", {"n": 2}, owner_key_id="k2"))
        stored = store.documents.get_document(document_id_for(text))
        assert stored is not None and (stored.source, stored.metadata, stored.owner_key_id) == (
            "first.txt",
            {"n": 1},
            "k1",
        )
        store.jobs.create_job("ingest", document=NewDocument(text, "again.txt", {"n": 3}, owner_key_id="k1"))
        assert store.documents.get_document(document_id_for(text)).source == "again.txt"  # type: ignore[union-attr]
        assert store.documents.document_owner("0" * 64) == (False, None)

    def test_deleting_a_document_removes_its_text_from_its_jobs(self, store: Store) -> None:
        text = "Deleted text. It must go."
        doc_id = document_id_for(text)
        payload = {"document_id": doc_id, "text": text, "source": "d.txt", "submitted_by": "k1"}
        done, _ = store.jobs.create_job("ingest", payload, document=NewDocument(text, "d.txt"))
        queued, _ = store.jobs.create_job("ingest", payload)
        other, _ = store.jobs.create_job("ingest", {"document_id": "f" * 64, "text": "kept"})
        store.jobs.complete_job(done.job_id, {"sno_id": "s1"})
        report = store.documents.delete_document(doc_id)
        assert report.document_removed
        finished, failed = store.jobs.get_job(done.job_id), store.jobs.get_job(queued.job_id)
        assert finished is not None and finished.state is JobState.SUCCESS
        assert finished.payload == {"document_id": doc_id, "deleted": True} and finished.result == {
            "deleted": True
        }
        assert failed is not None and failed.state is JobState.FAILURE and failed.payload["deleted"] is True
        assert failed.error == "document deleted before ingestion finished"
        assert store.jobs.get_job(other.job_id).payload["text"] == "kept"  # type: ignore[union-attr]
        sno = sample_sno("would be stored after the delete")
        sno.metadata["document_id"] = doc_id
        with pytest.raises(JobError, match="deleted before the ingestion finished"):
            store.documents.put_with_document(sno, text, completes=JobCompletion(queued.job_id, {}))
        assert not store.documents.document_exists(doc_id) and len(store.snos) == 0

    def test_lineage_from_metadata_survives_a_re_put_and_drives_the_cascade(self, store: Store) -> None:
        doc = store.documents.put_document("root document")
        a, b = sample_sno("A", seed=1), sample_sno("B", seed=2)
        store.snos.put(a, document_id=doc.document_id)
        store.snos.put(b)
        child = synthesis_of(a.sno_id, b.sno_id, "A and B")
        store.snos.put(child)
        child.metadata.pop("source_sno_a")  # re-stored naming only B: A no longer a parent
        store.snos.put(child)
        report = store.documents.delete_document(doc.document_id)
        assert report.sno_ids == [a.sno_id] and report.synthesis_ids == []
        assert store.snos.contains(child.sno_id)

    # ------------------------------------------------------------------ API keys and markers
    def test_api_keys_are_added_listed_and_revoked_once(self, store: Store) -> None:
        created = datetime(2026, 1, 1, 12, tzinfo=UTC)
        first = ApiKeyRecord("k1", "ci", "salt1", "digest1", "read", created)
        second = ApiKeyRecord("k0", "ops", "salt0", "digest0", "admin", created + timedelta(seconds=1))
        assert store.api_keys.add(first) == first
        store.api_keys.add(second)
        with pytest.raises(StoreError, match="already stored"):
            store.api_keys.add(first)
        assert store.api_keys.get("k1") == first and store.api_keys.get("nope") is None
        assert [k.key_id for k in store.api_keys.list()] == ["k1", "k0"]  # oldest first
        at = datetime(2026, 2, 1, tzinfo=UTC)
        revoked = store.api_keys.revoke("k1", at=at)
        assert revoked is not None and revoked.revoked_at == at
        again = store.api_keys.revoke("k1", at=at + timedelta(days=1))
        assert again is not None and again.revoked_at == at  # the first revocation stands
        assert store.api_keys.revoke("nope") is None
        assert store.api_keys.get("k1") == revoked

    def test_markers_are_named_numbers_apart_from_the_change_counter(self, store: Store) -> None:
        assert store.markers.read("rescored_documents") is None
        store.markers.write("rescored_documents", 3)
        store.markers.write("rescored_documents", 5)
        assert store.markers.read("rescored_documents") == 5
        store.snos.put(sample_sno("counted"))
        assert store.markers.read("sno_seq") == store.snos.current_seq() == 1
        with pytest.raises(StoreError, match="change counter"):
            store.markers.write("sno_seq", 0)

    # ------------------------------------------------------------------ paged reads
    def test_sno_pages_filter_sort_and_count(self, store: Store) -> None:
        doc = store.documents.put_document("paged document", source="doc.txt")
        snos = []
        for i, (trust, status) in enumerate(
            [(0.2, "archived"), (0.5, "active"), (0.8, "active"), (None, "candidate")]
        ):
            sno = sample_sno(f"page {i}", trust=trust, status=status, seed=i)
            if i == 0:
                sno.metadata["source"] = "own.txt"
            store.snos.put(sno, document_id=doc.document_id if i < 2 else None)
            snos.append(sno)
        page = store.reads.snos_page(limit=2, offset=1)
        assert page.total == 4 and [d["sno_id"] for d in page.items] == [s.sno_id for s in snos[1:3]]
        active = store.reads.snos_page(limit=10, offset=0, status="active", min_trust=0.6)
        assert (active.total, [d["sno_id"] for d in active.items]) == (1, [snos[2].sno_id])
        assert [d["sno_id"] for d in store.reads.snos_page(limit=10, offset=0, source="doc.txt").items] == [
            snos[1].sno_id
        ]
        assert store.reads.snos_page(limit=10, offset=0, source="own.txt").total == 1
        assert store.reads.snos_page(limit=5, offset=9).items == []
        assert store.reads.snos_page(limit=1, offset=0).items[0] == snos[0].to_dict()

    def test_sno_pages_by_part_of_the_source_date_kind_newest_first(self, store: Store) -> None:
        doc = store.documents.put_document("a query document", source="notes/Drift_100%.md")
        snos = []
        for i in range(4):
            sno = sample_sno(f"query {i}", trust=0.5, status="active", seed=i)
            sno.created_at = datetime(2026, 3, 1 + i, 12, tzinfo=UTC)
            store.snos.put(sno, document_id=doc.document_id if i < 2 else None)
            snos.append(sno)

        def ids(**query: Any) -> list[str]:
            return [
                d["sno_id"] for d in store.reads.snos_page(limit=10, offset=0, query=SNOQuery(**query)).items
            ]

        assert ids(newest_first=True) == [s.sno_id for s in reversed(snos)]
        assert ids(source_contains="drift_100%") == [snos[0].sno_id, snos[1].sno_id]  # any case
        assert ids(source_contains="dr_ft") == ids(source_contains="d%md") == []  # `_`, `%` are text
        assert ids(with_document=False) == [snos[2].sno_id, snos[3].sno_id]
        day = datetime(2026, 3, 2, tzinfo=UTC)
        assert ids(created_from=day, created_before=day + timedelta(days=2)) == [
            snos[1].sno_id,
            snos[2].sno_id,
        ]
        page = store.reads.snos_page(limit=1, offset=1, query=SNOQuery(newest_first=True, with_document=True))
        assert (page.total, [d["sno_id"] for d in page.items]) == (2, [snos[0].sno_id])

    def test_pair_and_synthesis_pages_and_outcomes(self, store: Store) -> None:
        a, b, c = (sample_sno(h, seed=i) for i, h in enumerate("ABC"))
        store.snos.put_many([a, b, c])
        ab = store.pairs.record_pair(
            PairRecord(a.sno_id, b.sno_id, 0.8, 0.4, 0.5, opposition=0.7, source="opposition")
        )
        bc = store.pairs.record_pair(PairRecord(b.sno_id, c.sno_id, 0.6, 0.4, 0.9))
        pairs = store.reads.pairs_page(limit=1, offset=0)
        assert pairs.total == 2 and [p.pair_id for p in pairs.items] == [bc.pair_id]
        low = store.reads.pairs_page(limit=5, offset=1)
        assert [(p.pair_id, p.opposition, p.source) for p in low.items] == [(ab.pair_id, 0.7, "opposition")]
        assert store.reads.pairs_page(limit=5, offset=0, min_potential=0.6).total == 1
        t0 = datetime(2026, 3, 1, tzinfo=UTC)
        store.pairs.record_attempt(ab.pair_id, finished_at=t0, accepted=True, result_sno_id="s1")
        store.pairs.record_attempt(ab.pair_id, finished_at=t0 + timedelta(hours=1), accepted=False)
        store.pairs.record_attempt(bc.pair_id, finished_at=t0 + timedelta(hours=2), accepted=None)
        store.pairs.record_attempt(bc.pair_id)  # still running: not listed
        rows = store.reads.syntheses_page(limit=10, offset=0)
        assert rows.total == 3
        assert [(r.attempt.pair_id, r.attempt.attempt_no, r.attempt.accepted) for r in rows.items] == [
            (bc.pair_id, 1, None),
            (ab.pair_id, 2, False),
            (ab.pair_id, 1, True),
        ]
        assert (rows.items[2].sno_a, rows.items[2].sno_b) == (ab.sno_a, ab.sno_b)
        rejected = store.reads.syntheses_page(limit=10, offset=0, accepted=False)
        assert [r.attempt.attempt_no for r in rejected.items] == [2] and rejected.total == 1
        assert (
            store.reads.syntheses_page(limit=10, offset=0, accepted=True).items[0].attempt.result_sno_id
            == "s1"
        )
        assert store.reads.syntheses_page(limit=1, offset=2).items[0].attempt.accepted is True
        assert store.reads.synthesis_outcomes() == (1, 3)

    def test_histograms_job_counts_and_table_counts(self, store: Store) -> None:
        for i, trust in enumerate([0.1, 0.4, 0.9, None]):
            store.snos.put(
                sample_sno(f"t{i}", trust=trust, status="active" if trust else "candidate", seed=i)
            )
        counts, total, n = store.reads.trust_histogram([0.3, 0.5, 1.0])
        assert counts == [1, 2, 3] and total == pytest.approx(1.4) and n == 3
        done, _ = store.jobs.create_job("ingest")
        store.jobs.create_job("ingest")
        store.jobs.create_job("synthesize")
        store.jobs.complete_job(done.job_id, {"ok": True})
        assert store.reads.jobs_by_state() == {
            ("ingest", "SUCCESS"): 1,
            ("ingest", "PENDING"): 1,
            ("synthesize", "PENDING"): 1,
        }
        latency, seconds, finished = store.reads.job_latency_histogram([0.0, 60.0], "ingest")
        assert finished == 1 and latency[1] == 1 and 0.0 <= seconds < 60.0
        assert store.reads.job_latency_histogram([1.0], "synthesize") == ([0], 0.0, 0)
        counts_by = store.reads.counts()
        assert {
            k: counts_by[k] for k in ("snos", "snos_active", "snos_candidate", "jobs", "jobs_PENDING")
        } == {
            "snos": 4,
            "snos_active": 3,
            "snos_candidate": 1,
            "jobs": 3,
            "jobs_PENDING": 2,
        }
        assert (counts_by["documents"], counts_by["pairs"], counts_by["tombstones"]) == (0, 0, 0)
