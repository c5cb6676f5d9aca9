"""Engines for the two supported databases, with the settings the store's guarantees rely on.

SQLite: WAL (readers never block the writer), ``foreign_keys=ON`` (the cascades of
``delete_document`` rely on them), ``synchronous=FULL`` (a commit that returned is on disk, so
"reported as stored" survives a power cut, not just a process crash) and a busy timeout so two
processes wait for each other instead of failing. SQLAlchemy emits ``BEGIN`` itself (the
documented pysqlite recipe) so transactions and SAVEPOINTs behave; write transactions use
``BEGIN IMMEDIATE`` to take the write lock up front — otherwise two processes that both read and
then write deadlock and one gets ``database is locked`` without waiting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, Engine

from cns.errors import StoreError
from cns.store.sql.url import normalize_url

SQLITE_BUSY_TIMEOUT_MS = 30_000
_BEGIN_OPTION = "cns_sqlite_begin"


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
    return create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": 10})


def writer(engine: Engine) -> Engine:
    """A view of ``engine`` whose transactions take SQLite's write lock at BEGIN."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
    return engine


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
