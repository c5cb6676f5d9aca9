"""PostgreSQL round trips of the hot store calls, and the idle-connection ping that replaced pre-ping.

A worker pays every round trip once per document, so the counts are pinned here with a libpq
trace (what the client sent), not with timings. The ping tests kill the pooled connections
server-side: after an idle period the ping notices and the pool reconnects transparently; the
negative control shows that a connection used a moment ago is not pinged, fails once, and that
the failure invalidates the pool so the next call works.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import pq
from sqlalchemy import event
from sqlalchemy.engine import make_url

from cns.errors import StoreError
from cns.store.sql import JobCompletion, NewDocument, SQLStore, document_id_for
from cns.store.sql import engine as engine_module
from cns.testing.contracts import sample_sno
from tests.store.test_postgres_store import pg_url  # noqa: F401  (fixture)

pytestmark = pytest.mark.integration


@contextmanager
def traced(url: str) -> Iterator[tuple[SQLStore, Any]]:
    """A store whose connections write a libpq trace; yields it and a round-trip counter."""
    with tempfile.TemporaryDirectory() as tmp, (Path(tmp) / "trace").open("w+") as trace:
        store = SQLStore.open(url)

        @event.listens_for(store.engine, "connect")
        def _trace(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.pgconn.trace(trace.fileno())
            dbapi_connection.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)

        store.engine.dispose()  # connections made from now on are traced

        @contextmanager
        def round_trips() -> Iterator[list[int]]:
            trace.flush()
            start = trace.seek(0, 2)
            counted: list[int] = []
            yield counted
            trace.flush()
            trace.seek(start)
            sent = [line for line in trace.read().splitlines() if line.startswith("F")]
            counted.append(sum("\tQuery\t" in line or line.rstrip().endswith("\tSync") for line in sent))

        try:
            yield store, round_trips
        finally:
            store.close()


def test_hot_store_calls_cost_one_round_trip_each(pg_url: str) -> None:  # noqa: F811
    with traced(pg_url) as (store, round_trips):
        text = "Plates move slowly. We argue that they do."
        with round_trips() as submit:
            job, _ = store.create_job("ingest", {"n": 1}, document=NewDocument(text, "a.txt"))
        with round_trips() as api_submit:
            store.submit_job("ingest", {"n": 2}, document=NewDocument("Other text. It is new.", "b.txt"))
        with round_trips() as claim:
            store.claim_job(job.job_id, max_deliveries=3)
        with round_trips() as read:
            store.get_job(job.job_id)
        seq = store.current_seq()
        with round_trips() as unchanged:
            store.changes_since(seq)
        sno = sample_sno("plates move")
        sno.metadata["document_id"] = document_id_for(text)
        with round_trips() as final:
            store.put_with_document(sno, text, completes=JobCompletion(job.job_id, {"sno_id": sno.sno_id}))
        with round_trips() as changed:
            store.changes_since(0)
    assert claim == read == unchanged == [1]  # autocommit: no BEGIN / COMMIT around one statement
    assert submit == [4]  # BEGIN, document upsert, job insert, COMMIT: one commit per submission
    assert api_submit == [1]  # the API's submission: job and document in one autocommit statement
    assert changed == [2]  # the counter, then one query for stored and deleted SNOs together
    # BEGIN, seq, job row lock (its owner, and whether a delete won), document, SNO existence, SNO,
    # tombstone, job, COMMIT (no rows derived from the SNO besides its lineage, which this one lacks)
    assert final == [9]


def _kill_connections(url: str) -> int:
    """Terminate every other connection to ``url``'s database (a server restart, seen by the pool)."""
    admin = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return len(rows)


def test_an_idle_connection_killed_by_the_server_is_replaced_transparently(
    pg_url: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 0.0)  # every checkout is "idle"
    with SQLStore.open(pg_url) as store:
        assert store.get_job("warm") is None
        assert _kill_connections(pg_url) >= 1
        assert store.get_job("after") is None  # the ping found the dead connection; reconnected


def test_a_connection_used_a_moment_ago_is_not_pinged_and_fails_once(
    pg_url: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 3600.0)
    with SQLStore.open(pg_url) as store:
        assert store.get_job("warm") is None
        assert _kill_connections(pg_url) >= 1
        with pytest.raises(StoreError, match="get_job"):
            store.get_job("after")
        assert store.get_job("again") is None  # the failure invalidated the pool


def test_a_submission_on_a_connection_the_server_killed_fails_once_then_works(
    pg_url: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The one-statement submission uses the pool's connection directly: a dead one is thrown away."""
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 3600.0)
    with SQLStore.open(pg_url) as store:
        store.submit_job("ingest", {"n": 0})
        assert _kill_connections(pg_url) >= 1
        with pytest.raises(StoreError, match="submit_job"):
            store.submit_job("ingest", {"n": 1}, document=NewDocument("Lost text. It was never stored.", "x"))
        again = store.submit_job("ingest", {"n": 2}, document=NewDocument("Kept text. It is stored.", "y"))
        assert again.created and store.get_job(again.job.job_id) == again.job
        assert store.documents.get_document(document_id_for("Lost text. It was never stored.")) is None
