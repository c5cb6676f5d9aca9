"""Behaviour of ``SQLStore`` beyond the SNOStore port, run on SQLite and on PostgreSQL.

Not a test module itself (no ``test_`` prefix): ``test_sqlite_store.py`` and
``test_postgres_store.py`` subclass :class:`SQLStoreContract` with their own ``store`` fixture.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from cns.core.evidence import EvidenceItem
from cns.core.sno import StructuredNarrativeObject
from cns.errors import SNONotFoundError, StoreError
from cns.store.sql import (
    ChangePage,
    JobClaim,
    JobCompletion,
    JobState,
    NewDocument,
    PairRecord,
    SQLStore,
    document_id_for,
    pair_id_for,
)
from cns.testing.contracts import sample_sno


def evaluated(sno: StructuredNarrativeObject, critics: dict[str, float]) -> StructuredNarrativeObject:
    sno.evaluation = {
        "trust_score": 0.5,
        "critic_results": {
            name: {"critic": name, "score": score, "confidence": 0.8, "models": {"nli": "fake@1"}}
            for name, score in critics.items()
        },
    }
    return sno


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements ``engine`` sends while the block runs (tests count round trips with it)."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def touching(sent: list[str], table: str) -> list[str]:
    return [s for s in sent if f" {table} " in f" {s} ".replace("\n", " ") or f" {table}." in s]


def synthesis_of(a: str, b: str, hypothesis: str, *, with_metadata: bool = True) -> StructuredNarrativeObject:
    meta: dict[str, Any] = {"source_sno_a": a, "source_sno_b": b} if with_metadata else {}
    return StructuredNarrativeObject(hypothesis, metadata=meta)


class SQLStoreContract:
    # ------------------------------------------------------------------ documents
    def test_documents_are_content_addressed(self, store: SQLStore) -> None:
        first = store.put_document("Plates  move\nslowly.", source="a.txt", metadata={"lang": "en"})
        again = store.put_document("Plates move slowly.", source="b.txt")
        assert first.document_id == again.document_id == document_id_for("Plates move slowly.")
        assert again.source == "b.txt" and again.metadata == {}
        assert first.char_count == len("Plates  move\nslowly.")
        assert store.document_exists(first.document_id)
        assert not store.document_exists("0" * 64)
        assert store.get_document("0" * 64) is None
        assert [d.document_id for d in store.list_documents()] == [first.document_id]
        assert store.counts()["documents"] == 1
        got = store.get_document(first.document_id)
        assert got is not None and got.created_at.tzinfo is not None

    def test_sno_links_to_its_document(self, store: SQLStore) -> None:
        doc = store.put_document("Light is a wave.", source="wave.md")
        sno = sample_sno("Light is a wave")
        sno.metadata["document_id"] = doc.document_id
        store.put(sno)
        assert store.snos_of_document(doc.document_id) == [sno.sno_id]
        orphan = sample_sno("No such document", seed=3)
        with pytest.raises(StoreError, match="put_document"):
            store.put(orphan, document_id="f" * 64)
        assert len(store) == 1

    # ------------------------------------------------------------------ derived rows
    def test_evidence_keys_follow_every_put(self, store: SQLStore) -> None:
        a, b = sample_sno("A", seed=1), sample_sno("B", seed=2)
        store.put(a)
        store.put(b)
        shared = "doi:10.1000/shared"
        assert shared in a.evidence_keys
        assert store.postings([shared, "src:nobody"]) == {shared: {a.sno_id, b.sno_id}}
        assert store.snos_sharing_evidence(a.sno_id) == {b.sno_id: 1}
        b.evidence_set = {EvidenceItem("replaced evidence", source_id="doi:10.1000/other")}
        store.put(b)
        assert store.postings([shared]) == {shared: {a.sno_id}}
        assert store.snos_sharing_evidence(a.sno_id) == {}
        assert store.counts()["evidence_keys"] == 3

    def test_critic_results_follow_every_put(self, store: SQLStore) -> None:
        sno = evaluated(sample_sno("C"), {"grounding": 0.6, "logic": 0.9, "novelty": 0.3})
        store.put(sno)
        assert store.counts()["critic_results"] == 3
        store.put(evaluated(sno, {"grounding": 0.7}))
        assert store.counts()["critic_results"] == 1
        assert store.get(sno.sno_id).evaluation["critic_results"]["grounding"]["score"] == 0.7  # type: ignore[index]

    def test_malformed_evaluation_is_refused_with_a_clear_error(self, store: SQLStore) -> None:
        sno = sample_sno("bad evaluation")
        sno.evaluation = {"critic_results": {"logic": {"confidence": 0.5}}}
        with pytest.raises(StoreError, match=r"critic_results\['logic'\] has no score"):
            store.put(sno)
        assert len(store) == 0

    def test_find_by_content_hash(self, store: SQLStore) -> None:
        one, two = sample_sno("same thing", seed=1), sample_sno("same thing", seed=1)
        store.put(one)
        store.put(two)
        assert store.find_by_content_hash(one.content_hash()) == sorted([one.sno_id, two.sno_id])

    # ------------------------------------------------------------------ change feed
    def test_seq_is_monotonic_and_deletions_are_visible(self, store: SQLStore) -> None:
        a, b = sample_sno("A", seed=1), sample_sno("B", seed=2)
        store.put(a)
        store.put(b)
        store.put(a)  # a moves after b
        changes = store.snos_since(0)
        assert [c.sno_id for c in changes] == [b.sno_id, a.sno_id]
        assert changes[0].seq < changes[1].seq
        assert changes[1].embedding is not None and changes[1].embedding.shape == (8,)
        assert changes[1].status == "candidate" and not changes[1].deleted
        mark = store.current_seq()
        assert mark == changes[-1].seq
        assert store.delete(b.sno_id)
        after = store.snos_since(mark)
        assert [(c.sno_id, c.deleted, c.embedding) for c in after] == [(b.sno_id, True, None)]
        store.put(b)  # re-stored: the tombstone goes, the live row is the latest state
        latest = store.snos_since(mark)
        assert [(c.sno_id, c.deleted) for c in latest] == [(b.sno_id, False)]
        assert store.counts()["tombstones"] == 0
        assert store.snos_since(store.current_seq()) == []

    def test_changes_since_reads_only_the_counter_when_nothing_changed(self, store: SQLStore) -> None:
        store.put(sample_sno("one"))
        with statements(store.engine) as sent:
            page = store.changes_since(0)
        assert touching(sent, "snos") and touching(sent, "sno_tombstones")  # one UNION query
        assert page.complete and page.through == store.current_seq() == 1
        assert [c.sno_id for c in page.changes] == [store.list()[0].sno_id]
        with statements(store.engine) as sent:
            again = store.changes_since(page.through)
        assert again == ChangePage([], page.through, True)
        assert touching(sent, "snos") == [] and touching(sent, "sno_tombstones") == []
        assert len(touching(sent, "store_counters")) == 1

    def test_changes_since_pages_end_where_a_reader_resumes(self, store: SQLStore) -> None:
        snos = [sample_sno(f"p{i}", seed=i) for i in range(5)]
        for sno in snos:
            store.put(sno)
        store.delete(snos[1].sno_id)  # seq 6: a tombstone among live rows
        first = store.changes_since(0, limit=3)
        assert not first.complete and first.through == first.changes[-1].seq == 4
        rest = store.changes_since(first.through, limit=3)
        assert rest.complete and rest.through == store.current_seq() == 6
        assert [c.seq for c in first.changes + rest.changes] == [1, 3, 4, 5, 6]
        assert rest.changes[-1].deleted and rest.changes[-1].sno_id == snos[1].sno_id
        with pytest.raises(ValueError, match="limit"):
            store.changes_since(0, limit=0)

    def test_snos_since_pages_in_seq_order(self, store: SQLStore) -> None:
        snos = [sample_sno(f"s{i}", seed=i) for i in range(7)]
        for sno in snos:
            store.put(sno)
        store.delete(snos[0].sno_id)
        first = store.snos_since(0, limit=3)
        rest = store.snos_since(first[-1].seq)
        seqs = [c.seq for c in first + rest]
        assert seqs == sorted(seqs) and len(seqs) == len(set(seqs)) == 7
        assert len(first) == 3
        assert first[0].sno_id == snos[1].sno_id
        assert rest[-1].deleted and rest[-1].sno_id == snos[0].sno_id

    def test_concurrent_writers_get_distinct_seqs(self, store: SQLStore) -> None:
        errors: list[BaseException] = []

        def write(worker: int) -> None:
            try:
                for i in range(15):
                    store.put(sample_sno(f"w{worker}-{i}", seed=worker * 100 + i))
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        changes = store.snos_since(0)
        assert len(store) == 60 == len(changes) == len({c.seq for c in changes})
        assert max(c.seq for c in changes) == store.current_seq() == 60

    # ------------------------------------------------------------------ transactions
    def test_failed_batch_stores_nothing(self, store: SQLStore) -> None:
        good = sample_sno("stored before", seed=1)
        store.put(good)
        batch = [sample_sno(f"batch {i}", seed=10 + i) for i in range(3)]
        batch[2].metadata["document_id"] = "e" * 64  # not stored: the third put raises
        with pytest.raises(StoreError):
            store.put_many(batch)
        assert len(store) == 1
        assert store.counts()["evidence_keys"] == 2
        assert store.current_seq() == 1
        with pytest.raises(SNONotFoundError):
            store.get(batch[0].sno_id)
        assert store.put_many(batch[:2]) == 2
        assert len(store) == 3

    # ------------------------------------------------------------------ pairs and attempts
    def test_pairs_are_unordered_and_upserted(self, store: SQLStore) -> None:
        a, b, c = (sample_sno(h, seed=i) for i, h in enumerate("ABC"))
        for sno in (a, b, c):
            store.put(sno)
        stored = store.record_pair(PairRecord(b.sno_id, a.sno_id, 0.8, 0.4, 0.5, shared=["k"]))
        assert (stored.sno_a, stored.sno_b) == tuple(sorted((a.sno_id, b.sno_id)))
        assert stored.pair_id == pair_id_for(a.sno_id, b.sno_id) == pair_id_for(b.sno_id, a.sno_id)
        store.record_pair(PairRecord(a.sno_id, b.sno_id, 0.9, 0.4, 0.7, conflicts=[{"claim": "x"}]))
        store.record_pair(PairRecord(a.sno_id, c.sno_id, 0.3, 0.1, 0.2))
        pairs = store.list_pairs()
        assert [p.potential for p in pairs] == [0.7, 0.2]
        assert pairs[0].chirality == 0.9 and pairs[0].conflicts == [{"claim": "x"}]
        assert pairs[0].found_at == stored.found_at
        assert [p.potential for p in store.list_pairs(min_potential=0.5)] == [0.7]
        assert len(store.list_pairs(sno_id=c.sno_id)) == 1
        assert store.get_pair("nope") is None
        with pytest.raises(StoreError, match="not stored"):
            store.record_pair(PairRecord(a.sno_id, "ghost", 0.5, 0.5, 0.5))
        with pytest.raises(StoreError, match="two different"):
            store.record_pair(PairRecord(a.sno_id, a.sno_id, 0.5, 0.5, 0.5))

    def test_attempts_are_numbered_with_cooldowns(self, store: SQLStore) -> None:
        a, b = sample_sno("A", seed=1), sample_sno("B", seed=2)
        store.put(a)
        store.put(b)
        pair = store.record_pair(PairRecord(a.sno_id, b.sno_id, 0.8, 0.4, 0.5))
        assert store.last_attempt(pair.pair_id) is None
        cooldown = datetime(2030, 1, 1, 12, tzinfo=UTC)
        first = store.record_attempt(
            pair.pair_id, accepted=False, reasons=["low trust"], cooldown_until=cooldown
        )
        second = store.record_attempt(pair.pair_id)
        assert (first.attempt_no, second.attempt_no) == (1, 2)
        assert second.finished_at is None and second.accepted is None
        done = store.finish_attempt(pair.pair_id, 2, accepted=True, result_sno_id="s1", reasons=["ok"])
        assert done.accepted is True and done.finished_at is not None
        last = store.last_attempt(pair.pair_id)
        assert last is not None and last.attempt_no == 2 and last.result_sno_id == "s1"
        assert store.list_attempts(pair.pair_id)[0].cooldown_until == cooldown
        with pytest.raises(StoreError, match="no stored pair"):
            store.record_attempt("missing-pair")
        with pytest.raises(StoreError, match="no attempt 9"):
            store.finish_attempt(pair.pair_id, 9, accepted=False)

    # ------------------------------------------------------------------ cascading delete
    def test_delete_document_cascades_to_derived_data(self, store: SQLStore) -> None:
        doc1, doc2 = store.put_document("first document"), store.put_document("second document")
        a, b, c = sample_sno("A", seed=1), sample_sno("B", seed=2), sample_sno("C", seed=3)
        store.put(a, document_id=doc1.document_id)
        store.put(b, document_id=doc2.document_id)
        store.put(c)
        s1 = synthesis_of(a.sno_id, b.sno_id, "A and B reconciled")  # lineage from metadata
        store.put(s1)
        ab = store.record_pair(PairRecord(a.sno_id, b.sno_id, 0.8, 0.5, 0.6))
        store.record_attempt(ab.pair_id, accepted=True, result_sno_id=s1.sno_id)
        s2 = synthesis_of("", "", "S1 and C reconciled", with_metadata=False)  # lineage from attempts only
        store.put(s2)
        s1c = store.record_pair(PairRecord(s1.sno_id, c.sno_id, 0.7, 0.5, 0.5))
        store.record_attempt(s1c.pair_id, accepted=True, result_sno_id=s2.sno_id)
        bc = store.record_pair(PairRecord(b.sno_id, c.sno_id, 0.6, 0.3, 0.4))
        store.record_attempt(bc.pair_id, accepted=False)
        mark = store.current_seq()

        report = store.delete_document(doc1.document_id)

        assert report.document_removed
        assert report.sno_ids == [a.sno_id]
        assert report.synthesis_ids == sorted([s1.sno_id, s2.sno_id])
        assert report.pair_ids == sorted([ab.pair_id, s1c.pair_id])
        assert report.attempts_removed == 2
        assert sorted(report.all_sno_ids) == sorted([a.sno_id, s1.sno_id, s2.sno_id])
        assert not store.document_exists(doc1.document_id) and store.document_exists(doc2.document_id)
        assert {s.sno_id for s in store.list()} == {b.sno_id, c.sno_id}
        assert [p.pair_id for p in store.list_pairs()] == [bc.pair_id]
        assert len(store.list_attempts(bc.pair_id)) == 1
        assert store.postings(["doi:10.1000/shared"]) == {"doi:10.1000/shared": {b.sno_id, c.sno_id}}
        deleted = {ch.sno_id for ch in store.snos_since(mark) if ch.deleted}
        assert deleted == {a.sno_id, s1.sno_id, s2.sno_id}
        counts = store.counts()
        assert (counts["snos"], counts["pairs"], counts["synthesis_attempts"], counts["documents"]) == (
            2,
            1,
            1,
            1,
        )
        again = store.delete_document(doc1.document_id)
        assert not again.document_removed and again.all_sno_ids == [] and again.pair_ids == []

    # ------------------------------------------------------------------ jobs
    def test_job_lifecycle_is_idempotent(self, store: SQLStore) -> None:
        job, created = store.create_job("ingest", {"document_id": "d1"}, idempotency_key="req-1")
        assert created and job.state is JobState.PENDING and job.attempts == 0
        same, created_again = store.create_job("ingest", {"document_id": "other"}, idempotency_key="req-1")
        assert not created_again and same.job_id == job.job_id and same.payload == {"document_id": "d1"}
        assert store.job_by_key("req-1") == same
        started = store.start_job(job.job_id)
        assert started.state is JobState.STARTED and started.attempts == 1
        assert store.start_job(job.job_id).attempts == 2  # a redelivery is counted
        done = store.complete_job(job.job_id, {"sno_id": "s1"})
        assert done.state is JobState.SUCCESS and done.result == {"sno_id": "s1"}
        assert store.complete_job(job.job_id, {"sno_id": "s2"}).result == {"sno_id": "s1"}
        assert store.fail_job(job.job_id, "late failure").state is JobState.SUCCESS
        assert store.start_job(job.job_id).attempts == 2  # finished jobs are not restarted
        assert store.counts()["jobs_SUCCESS"] == 1
        with pytest.raises(StoreError, match="no job"):
            store.complete_job("missing", {})
        assert store.get_job("missing") is None

    def test_claim_job_counts_deliveries_up_to_the_poison_cap(self, store: SQLStore) -> None:
        job, _ = store.create_job("ingest")
        first = store.claim_job(job.job_id, max_deliveries=2)
        assert first.started and first.job is not None
        assert first.job.state is JobState.STARTED and first.job.attempts == 1
        assert store.claim_job(job.job_id, max_deliveries=2).job.attempts == 2  # type: ignore[union-attr]
        capped = store.claim_job(job.job_id, max_deliveries=2)  # a third delivery is not counted
        assert not capped.started and capped.job == store.get_job(job.job_id)
        assert capped.job is not None and capped.job.attempts == 2
        store.complete_job(job.job_id, {"ok": True})
        done = store.claim_job(job.job_id, max_deliveries=5)
        assert not done.started and done.job is not None
        assert done.job.state is JobState.SUCCESS and done.job.attempts == 2
        assert store.claim_job("missing", max_deliveries=3) == JobClaim(None, started=False)

    def test_create_job_with_a_known_job_id_returns_the_existing_job(self, store: SQLStore) -> None:
        first, created = store.create_job("ingest", {"n": 1}, job_id="job-1")
        other, _ = store.create_job("ingest", {"n": 2})
        again, created_again = store.create_job("ingest", {"n": 3}, job_id="job-1")
        assert created and not created_again and again == first and other.job_id != "job-1"

    def test_a_submission_stores_its_document_with_the_job(self, store: SQLStore) -> None:
        text = "Plates move slowly. We argue they do."
        job, created = store.create_job(
            "ingest", {"n": 1}, idempotency_key="k", document=NewDocument(text, "a.txt", {"lang": "en"})
        )
        stored = store.get_document(document_id_for(text))
        assert (
            created and stored is not None and (stored.source, stored.metadata) == ("a.txt", {"lang": "en"})
        )
        again, created = store.create_job(
            "ingest", {"n": 2}, idempotency_key="k", document=NewDocument("Another text.", "b.txt")
        )
        assert not created and again.job_id == job.job_id  # a replay stores nothing
        assert store.get_document(document_id_for("Another text.")) is None

    def test_put_with_document_commits_document_sno_and_job_success_together(self, store: SQLStore) -> None:
        text = "Coffee improves memory. A trial shows it."
        job, _ = store.create_job("ingest")
        store.claim_job(job.job_id, max_deliveries=3)
        sno = sample_sno("coffee improves memory")
        sno.metadata["document_id"] = document_id_for(text)
        done = store.put_with_document(
            sno, text, source="c.txt", completes=JobCompletion(job.job_id, {"sno_id": sno.sno_id})
        )
        assert done == store.get_job(job.job_id)
        assert done is not None and done.state is JobState.SUCCESS and done.result == {"sno_id": sno.sno_id}
        assert store.snos_of_document(document_id_for(text)) == [sno.sno_id]
        assert store.get_document(document_id_for(text)).source == "c.txt"  # type: ignore[union-attr]
        # a job finished before keeps its first result; the SNO is still stored (an idempotent upsert)
        again = store.put_with_document(sno, text, completes=JobCompletion(job.job_id, {"sno_id": "other"}))
        assert again is not None and again.result == {"sno_id": sno.sno_id}

    def test_put_with_document_stores_nothing_when_the_job_update_fails(self, store: SQLStore) -> None:
        text = "Vaccines work. Trials agree."
        sno = sample_sno("vaccines work")
        sno.metadata["document_id"] = document_id_for(text)
        with pytest.raises(StoreError, match="no job"):
            store.put_with_document(sno, text, completes=JobCompletion("missing", {}))
        assert not store.contains(sno.sno_id) and store.get_document(document_id_for(text)) is None
        assert store.current_seq() == 0

    def test_failed_and_overdue_jobs(self, store: SQLStore) -> None:
        past = datetime.now(UTC) - timedelta(minutes=5)
        stuck, _ = store.create_job("synthesize", deadline=past)
        fresh, _ = store.create_job("synthesize", deadline=datetime.now(UTC) + timedelta(hours=1))
        other, _ = store.create_job("find_pairs")
        store.start_job(stuck.job_id)
        assert [j.job_id for j in store.overdue_jobs()] == [stuck.job_id]
        requeued = store.requeue_job(stuck.job_id, deadline=None)
        assert requeued.state is JobState.PENDING and requeued.attempts == 1
        failed = store.fail_job(other.job_id, "boom")
        assert failed.state is JobState.FAILURE and failed.error == "boom"
        assert store.complete_job(other.job_id, {"retry": True}).state is JobState.SUCCESS
        assert {j.job_id for j in store.list_jobs(state="PENDING")} == {stuck.job_id, fresh.job_id}
        assert [j.job_id for j in store.list_jobs(kind="find_pairs")] == [other.job_id]
        assert len(store.list_jobs(limit=2)) == 2

    # ------------------------------------------------------------------ id prefixes (the CLI's lookups)
    def _named(self, store: SQLStore, sno_id: str, text: str, source: str) -> StructuredNarrativeObject:
        doc = store.put_document(text, source=source)
        sno = StructuredNarrativeObject(text, sno_id=sno_id)
        sno.metadata["source"] = source
        store.put(sno, document_id=doc.document_id)
        return sno

    def test_ids_with_prefix_is_exact_about_case_and_wildcards(self, store: SQLStore) -> None:
        for sno_id, source in (("abc111", "docs/drift.md"), ("abc222", "docs/fixed.txt"),
                               ("ABC333", "docs/upper.txt"), ("a_c444", "x/u.txt"), ("a%c555", "x/p.txt")):  # fmt: skip
            self._named(store, sno_id, f"Narrative {sno_id} argues a point.", source)
        found = store.ids_with_prefix("sno", "abc")
        assert [(m.id, m.sources) for m in found] == [
            ("abc111", ("docs/drift.md",)),
            ("abc222", ("docs/fixed.txt",)),
        ]
        assert [m.id for m in store.ids_with_prefix("sno", "ABC")] == ["ABC333"]  # SQLite's LIKE ignores case
        assert [m.id for m in store.ids_with_prefix("sno", "a_c")] == ["a_c444"]  # `_` is not a wildcard
        assert [m.id for m in store.ids_with_prefix("sno", "a%")] == ["a%c555"]  # nor is `%`
        assert store.ids_with_prefix("sno", "zzz") == []
        assert len(store.ids_with_prefix("sno", "a", limit=2)) == 2
        [one] = store.ids_with_prefix("sno", "abc1")
        assert one.document_id == document_id_for("Narrative abc111 argues a point.")

    def test_document_and_pair_prefixes_carry_file_names(self, store: SQLStore) -> None:
        a = self._named(store, "aaa1", "Continents drift across the mantle.", "docs/drift.md")
        b = self._named(store, "bbb2", "Continents are fixed in place.", "docs/fixed.txt")
        doc_id = document_id_for("Continents drift across the mantle.")
        [doc] = store.ids_with_prefix("document", doc_id[:6])
        assert (doc.id, doc.sources, doc.sno_id) == (doc_id, ("docs/drift.md",), a.sno_id)
        pair = store.record_pair(PairRecord(a.sno_id, b.sno_id, 0.5, 0.5, 0.5))
        [found] = store.ids_with_prefix("pair", pair.pair_id[:5])
        assert found.id == pair.pair_id and found.sources == ("docs/drift.md", "docs/fixed.txt")
        assert [m.id for m in store.snos_with_source("drift.md")] == [a.sno_id]
        assert [m.id for m in store.snos_with_source("docs/fixed.txt")] == [b.sno_id]
        assert store.snos_with_source("rift.md") == [] and store.snos_with_source("DRIFT.md") == []

    def test_resolving_a_prefix_names_the_candidates_or_says_nothing_matched(self, store: SQLStore) -> None:
        from cns.errors import AmbiguousIdError, DocumentNotFoundError
        from cns.services.lookup import resolve, resolve_document, resolve_narrative

        self._named(store, "abc111", "Tags reduce reoffending.", "docs/tags-work.md")
        self._named(store, "abc222", "Tags do not reduce reoffending.", "docs/tags-fail.txt")
        self._named(store, "abc", "Tags are neutral.", "docs/neutral.txt")
        assert resolve(store, "sno", "abc1").id == "abc111"
        assert resolve(store, "sno", "abc").id == "abc"  # a full id wins over the longer ids it starts
        with pytest.raises(AmbiguousIdError, match=r"tags-work\.md.*tags-fail\.txt"):
            resolve(store, "sno", "ab")
        with pytest.raises(SNONotFoundError, match="no stored SNO has an id starting with 'zz'"):
            resolve(store, "sno", "zz")
        assert resolve_narrative(store, "tags-fail.txt").id == "abc222"  # a file name
        doc_id = document_id_for("Tags reduce reoffending.")
        assert resolve_narrative(store, doc_id[:10]).id == "abc111"  # a document id → its SNO
        assert resolve_document(store, "abc111").id == doc_id  # an SNO id → its document
        with pytest.raises(DocumentNotFoundError):
            resolve_document(store, "zz")
