"""A job submission in one PostgreSQL statement: the hot path of ``POST /ingest``.

Through SQLAlchemy a submission was four statements (BEGIN, the document upsert, the job
insert, COMMIT) plus a read of the document's owner for the answer, and SQLAlchemy's own work
per statement (connection events, cache key, result processing, the ORM session) cost several
times the driver's: about 5 ms of CPU per submission, most of the API's CPU under load.

Here the job insert and the document upsert are one statement of data-modifying CTEs, sent
with the driver on a pooled connection in autocommit: one round trip, atomic (both rows or
neither) and as durable as a committed transaction, so an answered submission is recorded.
The document is written only if the job was (a concurrent request that won the idempotency key
keeps its own document, and a refused replay stores nothing), and the statement reports whether
the document was written — it is not when another submitter's document with the same text
exists (see :func:`cns.store.sql._documents.put_document_in`, the same rule for SQLite).

The columns are those of migration 0001; the store's contract tests run this path against a
real PostgreSQL, so a schema change that forgets it fails there.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

from cns.core.records import JobState, NewDocument
from cns.errors import StoreError
from cns.store.rules import document_id_for

if TYPE_CHECKING:
    import psycopg

# psycopg is imported inside the functions: only a PostgreSQL store calls them, and a process on
# SQLite (tests, the single-machine CLI) should not pay for importing the driver.

_SUBMIT = """
WITH job AS (
    INSERT INTO jobs (job_id, kind, state, attempts, payload, result, error, idempotency_key,
                      created_at, updated_at, deadline)
    VALUES (%(job_id)s, %(kind)s, %(state)s, 0, %(payload)s, NULL, NULL, %(idempotency_key)s,
            %(now)s, %(now)s, %(deadline)s)
    ON CONFLICT ({conflict}) DO NOTHING
    RETURNING job_id
), doc AS (
    INSERT INTO documents (document_id, source, metadata, char_count, created_at, owner_key_id)
    SELECT %(document_id)s, %(source)s, %(metadata)s, %(char_count)s, %(now)s, %(owner_key_id)s
    WHERE %(with_document)s AND EXISTS (SELECT 1 FROM job)
    ON CONFLICT (document_id) DO UPDATE SET source = EXCLUDED.source, metadata = EXCLUDED.metadata
    WHERE documents.owner_key_id IS NOT DISTINCT FROM EXCLUDED.owner_key_id
    RETURNING 1
)
SELECT (SELECT count(*) FROM job), (SELECT count(*) FROM doc)
"""
#: By conflict target: a job keyed by its idempotency key, or (no key) by its fresh job id.
STATEMENTS = {column: _SUBMIT.format(conflict=column) for column in ("idempotency_key", "job_id")}


def submit_in_one_statement(
    engine: Engine,
    *,
    job_id: str,
    kind: str,
    payload: dict[str, Any],
    idempotency_key: str | None,
    now: datetime,
    deadline: datetime | None,
    document: NewDocument | None,
) -> tuple[bool, bool | None]:
    """Insert the job (and its document); (job inserted, document shared with another submitter).

    The second value is None when there is no document or the job was not inserted.
    """
    from psycopg.types.json import Jsonb

    params = {
        "job_id": job_id,
        "kind": kind,
        "state": JobState.PENDING.value,
        "payload": Jsonb(payload),
        "idempotency_key": idempotency_key,
        "now": now,
        "deadline": deadline,
        "with_document": document is not None,
        "document_id": document_id_for(document.text) if document else None,
        "source": document.source if document else None,
        "metadata": Jsonb(dict(document.metadata or {}) if document else {}),
        "char_count": len(document.text) if document else 0,
        "owner_key_id": document.owner_key_id if document else None,
    }
    statement = STATEMENTS["job_id" if idempotency_key is None else "idempotency_key"]
    inserted, written = _execute(engine, statement, params)
    if not inserted or document is None:
        return bool(inserted), None
    return True, not written


def _execute(engine: Engine, statement: str, params: dict[str, Any]) -> tuple[int, int]:
    """Run ``statement`` in autocommit on a pooled connection; its one row."""
    import psycopg

    try:
        pooled = engine.raw_connection()  # the pool's checkout events run (the idle-connection ping)
    except Exception as exc:  # SQLAlchemy wraps the driver's connect error
        raise StoreError(f"store submit_job failed: {_first_line(exc)}", operation="submit_job") from exc
    driver: psycopg.Connection[Any] = pooled.driver_connection  # type: ignore[assignment]
    try:
        if driver.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            driver.rollback()
        driver.autocommit = True
        try:
            row = driver.execute(statement.encode(), params).fetchone()
        finally:
            if not driver.closed:
                driver.autocommit = False
    except psycopg.Error as exc:
        if driver.broken or driver.closed:  # a lost connection must not go back to the pool
            pooled.invalidate(exc)
        raise StoreError(f"store submit_job failed: {_first_line(exc)}", operation="submit_job") from exc
    finally:
        pooled.close()
    assert row is not None  # a SELECT of two counts always has one row
    return int(row[0]), int(row[1])


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
