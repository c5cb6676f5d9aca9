"""What only the SQL store must do, run on SQLite and on PostgreSQL.

The behaviour every store shares is in ``repository_contract.py`` (run on the in-memory
reference too); here: the statements the change feed costs, concurrent writers, and the
``SQLStore`` facade that keeps the methods callers have always used.

Not a test module itself (no ``test_`` prefix): ``test_sqlite_store.py`` and
``test_postgres_store.py`` subclass :class:`SQLStoreContract` with their own ``store`` fixture.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from cns.store.sql import ChangePage, PairRecord, SQLStore
from cns.testing.contracts import sample_sno


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


class SQLStoreContract:
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

    def test_the_facade_delegates_to_the_repositories(self, store: SQLStore) -> None:
        doc = store.put_document("facade text", source="f.txt")
        a, b = sample_sno("A", seed=1), sample_sno("B", seed=2)
        store.put(a, document_id=doc.document_id)
        assert store.put_many([b]) == 1
        assert store.snos.get(a.sno_id).sno_id == store.get(a.sno_id).sno_id == a.sno_id
        assert store.contains(b.sno_id) and len(store) == len(store.snos) == 2
        assert store.snos_of_document(doc.document_id) == store.documents.snos_of_document(doc.document_id)
        pair = store.record_pair(PairRecord(a.sno_id, b.sno_id, 0.8, 0.4, 0.5))
        assert store.pairs.get_pair(pair.pair_id) == store.get_pair(pair.pair_id) == pair
        attempt = store.record_attempt(pair.pair_id)
        assert store.finish_attempt(pair.pair_id, attempt.attempt_no, accepted=True).accepted is True
        assert store.last_attempt(pair.pair_id) == store.pairs.list_attempts(pair.pair_id)[-1]
        job, _ = store.create_job("ingest", idempotency_key="facade")
        assert store.claim_job(job.job_id, max_deliveries=2).started
        assert store.jobs.get_job(job.job_id) == store.get_job(job.job_id) == store.job_by_key("facade")
        store.write_marker("m", 7)
        assert store.markers.read("m") == store.read_marker("m") == 7
        assert store.counts() == store.reads.counts()
        assert store.current_seq() == store.snos.current_seq() == 2
        store.ping()
        report = store.delete_document(doc.document_id)
        assert report.sno_ids == [a.sno_id] and [s.sno_id for s in store.list()] == [b.sno_id]
