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

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from cns.core.sno import StructuredNarrativeObject
from cns.errors import SNONotFoundError
from cns.store.sql import ChangePage, LeaseTerms, PairRecord, SQLStore, document_id_for
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

    def test_concurrent_claims_and_turns_have_one_winner(self, store: SQLStore) -> None:
        """Workers racing for one job's lease, or for the reconciler's turn: exactly one wins each."""
        job, _ = store.create_job("ingest")
        start = threading.Barrier(6)
        claims: list[bool] = []
        turns: list[bool] = []

        def race(worker: int) -> None:
            start.wait()
            lease = LeaseTerms(f"host:{worker}", 30.0)
            claims.append(store.claim_job(job.job_id, max_deliveries=10, lease=lease).started)
            turns.append(store.markers.take_turn("race", now=5_000, every=1_000))

        threads = [threading.Thread(target=race, args=(w,)) for w in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(claims) == [False] * 5 + [True] and sorted(turns) == [False] * 5 + [True]
        claimed = store.get_job(job.job_id)
        assert claimed is not None and claimed.attempts == 1 and claimed.lease_token == 1

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

    # ------------------------------------------------------------------ ids by prefix and file name
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

    def test_job_prefixes_carry_the_job_kind(self, store: SQLStore) -> None:
        first, _ = store.create_job("ingest", {"source": "a.txt"})
        second, _ = store.create_job("synthesize", {"pair_id": "p"})
        [found] = store.ids_with_prefix("job", first.job_id)
        assert (found.kind, found.id, found.sources) == ("job", first.job_id, ("ingest",))
        both = store.ids_with_prefix("job", "")
        assert sorted(m.id for m in both) == sorted([first.job_id, second.job_id])

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
