"""The store tells a database that is away (transient) from a statement that is wrong (permanent).

A worker retries :class:`~cns.errors.StoreUnavailableError` and fails the job on any other
:class:`~cns.errors.StoreError`, so the split decides whether a connection reset loses a
document. The PostgreSQL half kills real sessions of a throw-away database.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from cns.errors import StoreError, StoreUnavailableError, is_transient
from cns.store.sql import SQLStore
from cns.store.sql._base import store_error, transient_failure
from cns.testing.services import temporary_postgres_database
from tests.reliability.rel_database import PostgresFaults
from tests.store.test_postgres_store import ADMIN_URL, require_postgres


def sqlite_error(message: str) -> OperationalError:
    return OperationalError("SELECT 1", {}, sqlite3.OperationalError(message))


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (sqlite_error("database is locked"), True),
        (sqlite_error("database or disk is full"), False),
        (sqlite_error("no such table: jobs"), False),
        (IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed")), False),
        (OperationalError("SELECT 1", {}, psycopg.OperationalError("server closed the connection")), True),
        (ProgrammingError("SELEC", {}, psycopg.ProgrammingError("syntax error")), False),
        (OperationalError("SELECT 1", {}, sqlite3.OperationalError("x"), connection_invalidated=True), True),
    ],
)
def test_connection_failures_are_transient_and_statement_failures_are_not(error, transient: bool) -> None:
    assert transient_failure(error) is transient
    translated = store_error("get_job", error)
    assert isinstance(translated, StoreError) and is_transient(translated) is transient
    assert isinstance(translated, StoreUnavailableError) is transient
    assert translated.message.startswith("store get_job failed: ")


def test_a_wrapped_transient_error_is_still_found() -> None:
    from cns.errors import IngestionError

    cause = StoreUnavailableError("store changes_since failed: terminating connection")
    try:
        try:
            raise cause
        except StoreUnavailableError as exc:
            raise IngestionError(f"could not ingest 'a.txt': {exc}") from exc
    except IngestionError as wrapped:
        assert is_transient(wrapped)
    assert not is_transient(IngestionError("no readable text"))


@pytest.fixture
def pg_url() -> Iterator[str]:
    require_postgres()
    with temporary_postgres_database(ADMIN_URL, prefix="cns_test_transient") as url:
        yield url


@pytest.mark.integration
def test_a_terminated_session_fails_one_operation_as_transient_then_the_pool_recovers(pg_url: str) -> None:
    with SQLStore.open(pg_url) as store, PostgresFaults(pg_url, ADMIN_URL) as faults:
        job, _ = store.create_job("ingest")
        assert faults.reset_connections() >= 1
        with pytest.raises(StoreUnavailableError, match="store get_job failed"):
            store.get_job(job.job_id)  # the connection was in use a moment ago: no ping before it
        assert store.get_job(job.job_id) == job  # the pool replaced the dead connection


@pytest.mark.integration
def test_a_database_refusing_connections_is_transient_and_so_is_opening_it(pg_url: str) -> None:
    with SQLStore.open(pg_url) as store, PostgresFaults(pg_url, ADMIN_URL) as faults:
        faults.outage()
        with pytest.raises(StoreUnavailableError):
            store.ping()
        with pytest.raises(StoreUnavailableError, match="cannot open the store"):
            SQLStore.open(pg_url)
        faults.restore()
        store.ping()
