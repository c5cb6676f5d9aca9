"""Engines for the two supported databases, with the settings the store's guarantees rely on.

SQLite: WAL (readers never block the writer), ``foreign_keys=ON`` (the cascades of
``delete_document`` rely on them), ``synchronous=FULL`` (a commit that returned is on disk, so
"reported as stored" survives a power cut, not just a process crash) and a busy timeout so two
processes wait for each other instead of failing. SQLAlchemy emits ``BEGIN`` itself (the
documented pysqlite recipe) so transactions and SAVEPOINTs behave; write transactions use
``BEGIN IMMEDIATE`` to take the write lock up front — otherwise two processes that both read and
then write deadlock and one gets ``database is locked`` without waiting.

PostgreSQL: every round trip counts on a busy host (a worker's job bookkeeping is a handful of
them), so

* a pooled connection is pinged before use only after it sat idle for
  ``PING_AFTER_IDLE_SECONDS`` (:func:`_ping_idle_connections`), not on every checkout as
  ``pool_pre_ping`` does: stale connections come from idle periods (server restarts, idle
  timeouts, NAT drops) and are still replaced transparently. A server restart in the middle of
  continuous use fails one operation per process, which invalidates the whole pool — the task
  retries, as it would if the server had died during that operation;
* :func:`autocommit` gives reads and single-statement writes a view without ``BEGIN`` /
  ``COMMIT`` round trips. Under READ COMMITTED every statement takes its own snapshot anyway,
  and a single ``UPDATE`` in autocommit is atomic and as durable as a committed transaction.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Connection, Engine

from cns.errors import StoreError
from cns.store.sql.url import normalize_url

SQLITE_BUSY_TIMEOUT_MS = 30_000
_BEGIN_OPTION = "cns_sqlite_begin"
#: A pooled PostgreSQL connection idle for longer than this is pinged before it is used again.
PING_AFTER_IDLE_SECONDS = 1.0
_LAST_CHECKIN = "cns_last_checkin"
#: PostgreSQL connections a process keeps open, and how many more it may open for a burst. An
#: API process runs up to 8 submissions at once (``SUBMISSION_THREADS``, cns/api/deps.py); with
#: SQLAlchemy's default of 5 the others opened a connection per request and closed it after — a
#: new server process each time, under exactly the load that could least afford it.
POOL_SIZE = 10
POOL_OVERFLOW = 10


def make_engine(url: str | URL) -> Engine:
    """Create an engine for ``url`` (normalised), creating the SQLite file's folder if needed."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        assert parsed.database is not None  # normalize_url rejects memory / empty databases
        folder = Path(parsed.database).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot open the store at {parsed.database}: cannot create folder {folder} ({exc.strerror})",
                url=str(parsed.database),
            ) from exc
        engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _configure_sqlite(engine)
        return engine
    engine = create_engine(
        parsed, connect_args={"connect_timeout": 10}, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW
    )
    _ping_idle_connections(engine, PING_AFTER_IDLE_SECONDS)
    return engine


def writer(engine: Engine) -> Engine:
    """A view of ``engine`` whose transactions take SQLite's write lock at BEGIN."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
    return engine


def autocommit(engine: Engine, fallback: Engine) -> Engine:
    """On PostgreSQL a view of ``engine`` in autocommit (no BEGIN/COMMIT round trips), else ``fallback``.

    Only for units of work that need no multi-statement atomicity: reads, and writes that are a
    single statement. SQLite keeps ``fallback`` (its explicit BEGIN gives reads a snapshot and
    writes the write lock, and costs no network round trip).
    """
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return fallback


def _ping_idle_connections(engine: Engine, idle_seconds: float) -> None:
    """Ping a pooled connection on checkout if it was idle ``idle_seconds``; replace it if dead.

    SQLAlchemy's ``pool_pre_ping`` recipe, keyed on idle time: a disconnect found by the ping
    invalidates the pool (every connection as old is replaced), like ``pool_pre_ping`` does.
    """
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_LAST_CHECKIN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        last = record.info.get(_LAST_CHECKIN)
        if last is None or time.monotonic() - last < idle_seconds:
            return  # just connected, or in use a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as err:
            if dialect.is_disconnect(err, dbapi_connection, None):
                raise sa_exc.InvalidatePoolError(f"stale connection: {err}") from err
            raise


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN (see module docstring)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(_BEGIN_OPTION, "")
        conn.exec_driver_sql(f"BEGIN {mode}".strip())
