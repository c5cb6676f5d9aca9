"""The one database every SQL repository is composed on: engine, transactions, error translation.

Every public repository method runs in exactly one transaction: :meth:`Database.reading` for
queries, :meth:`Database.writing` for changes (committed when the block exits, rolled back on
any exception, so a failure never leaves half an SNO behind). On PostgreSQL, reads and
single-statement writes run in autocommit (see :mod:`cns.store.sql.engine`): the same isolation,
two round trips fewer. Database-level failures are re-raised as :class:`cns.errors.StoreError`
naming the operation, with the driver's message kept as the cause — so a database outage is the
same error (and the same HTTP 503) whichever repository met it. A failure of the connection rather
than of the statement (:func:`transient_failure`) becomes :class:`~cns.errors.StoreUnavailableError`,
which a worker retries instead of failing the job.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar, cast

from sqlalchemy import Table, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, sessionmaker

from cns.errors import CNSError, StoreError, StoreUnavailableError
from cns.store.rules import SNO_SEQ
from cns.store.sql.engine import autocommit, writer
from cns.store.sql.schema import Base, Counter

T = TypeVar("T")
#: Keeps IN (...) lists well below SQLite's and PostgreSQL's bind-parameter limits.
CHUNK = 500


def chunks(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class Database:
    """Owns the engine and hands out transactional sessions to the repositories."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._reader = sessionmaker(autocommit(engine, engine), expire_on_commit=False)
        self._writer = sessionmaker(writer(engine), expire_on_commit=False)
        self._single_writer = sessionmaker(autocommit(engine, writer(engine)), expire_on_commit=False)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def reading(self, operation: str) -> Iterator[Session]:
        try:
            with self._reader() as session:
                yield session
        except CNSError:
            raise
        except SQLAlchemyError as exc:
            raise store_error(operation, exc) from exc

    @contextmanager
    def writing(self, operation: str, *, single_statement: bool = False) -> Iterator[Session]:
        """A write transaction.

        ``single_statement`` units — one UPDATE, perhaps followed by a read that needs no
        atomicity with it — run in autocommit on PostgreSQL, which saves the BEGIN and COMMIT
        round trips; the statement itself is still atomic and durable.
        """
        maker = self._single_writer if single_statement else self._writer
        try:
            with maker.begin() as session:
                yield session
        except CNSError:
            raise
        except SQLAlchemyError as exc:
            raise store_error(operation, exc) from exc

    def ping(self) -> None:
        """One trivial query: raises :class:`StoreError` when the database does not answer."""
        with self.reading("ping") as session:
            session.execute(text("SELECT 1"))

    def next_seq(self, session: Session, count: int = 1) -> int:
        """Reserve ``count`` sequence numbers and return the first.

        The UPDATE takes a row lock (PostgreSQL) or runs under the write lock (SQLite) until the
        transaction ends, so sequence numbers become visible in commit order: an index that has
        synced up to ``n`` can never later see a commit with a number below ``n``.
        """
        stmt = (
            update(Counter)
            .where(Counter.name == SNO_SEQ)
            .values(value=Counter.value + count)
            .returning(Counter.value)
        )
        last = session.execute(stmt).scalar_one()
        return int(last) - count + 1

    def change_counter(self, session: Session) -> int:
        """The committed value of the SNO change counter (one primary-key read, no lock)."""
        value = session.scalar(select(Counter.value).where(Counter.name == SNO_SEQ))
        return int(value or 0)

    def upsert(
        self,
        session: Session,
        model: type[Base],
        rows: Sequence[dict[str, Any]],
        *,
        keys: Sequence[str],
        update_columns: Sequence[str] | None,
    ) -> None:
        """INSERT … ON CONFLICT (keys) DO UPDATE/NOTHING on either backend (race-free upsert).

        ``rows`` are keyed by column name; ``update_columns=None`` means DO NOTHING on conflict.
        """
        if not rows:
            return
        stmt = insert_for(session)(table_of(model)).values(list(rows))
        if update_columns:
            stmt = stmt.on_conflict_do_update(
                index_elements=list(keys), set_={c: stmt.excluded[c] for c in update_columns}
            )
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
        session.execute(stmt)


def insert_for(session: Session) -> Any:
    """The dialect's INSERT (both have ``ON CONFLICT``), chosen by the session's connection."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def table_of(model: type[Base]) -> Table:
    """The Core table of a model: rows are then keyed by column name, not attribute name."""
    return cast(Table, model.__table__)


def store_error(operation: str, exc: SQLAlchemyError) -> StoreError:
    """The :class:`StoreError` of a failed ``operation``: :class:`StoreUnavailableError` when the
    connection, not the statement, failed."""
    reason = str(exc.orig) if isinstance(exc, DBAPIError) and exc.orig is not None else str(exc)
    reason = reason.strip().splitlines()[0] if reason.strip() else type(exc).__name__
    kind = StoreUnavailableError if transient_failure(exc) else StoreError
    return kind(f"store {operation} failed: {reason}", operation=operation)


#: SQLite's words for "another connection holds the lock": waiting and retrying gets through.
_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")


def transient_failure(exc: SQLAlchemyError) -> bool:
    """Whether ``exc`` is the database being away rather than the statement being wrong.

    Transient: a connection that was lost or invalidated (``pg_terminate_backend``, a server
    restart, a network cut), one that could not be opened (server down, database refusing
    connections), an empty pool, and PostgreSQL's operational errors (shutdown, deadlock,
    serialization failure, out of resources); on SQLite only a lock held too long. Not
    transient: constraint violations, bad SQL, missing tables, SQLite's disk I/O or full-disk
    errors — retrying those would fail the same way.
    """
    if isinstance(exc, (DisconnectionError, PoolTimeoutError)):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    if not isinstance(exc, (OperationalError, InterfaceError)):
        return False
    if isinstance(exc.orig, sqlite3.Error):
        message = str(exc.orig).lower()
        return any(busy in message for busy in _SQLITE_BUSY)
    return True
