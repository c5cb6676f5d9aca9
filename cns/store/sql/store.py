"""``SQLStore``: the persistent store of a CNS deployment (SQLite file or PostgreSQL).

One class, several concerns, each in its own module (SNOs → documents → pairs → jobs → the
ingestion write that spans them, stacked as mixins so that each file stays small). Opening a store applies the shipped migrations, so a
fresh data folder or an empty PostgreSQL database is usable immediately.

Several processes may open the same database: the CLI, API workers and Celery workers all share
it: one shared population instead of one per worker (docs/design-notes.md#one-shared-population).
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from sqlalchemy import func, select
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import SQLAlchemyError

from cns.config import CNSConfig, get_config
from cns.errors import StoreError
from cns.logging_setup import get_logger
from cns.store.sql._ingest import IngestStoreMixin
from cns.store.sql._lookup import IdLookupMixin
from cns.store.sql.engine import make_engine
from cns.store.sql.migrate import upgrade
from cns.store.sql.schema import (
    AttemptRow,
    CriticResultRow,
    Document,
    EvidenceKey,
    JobRow,
    PairRow,
    SNORow,
    SNOTombstone,
)
from cns.store.sql.url import database_url, normalize_url, sqlite_url

log = get_logger(__name__)


class SQLStore(IngestStoreMixin, IdLookupMixin):
    """Implements :class:`cns.ports.SNOStore` plus documents, pairs, attempts, jobs and a change feed.

    Build it with :meth:`open`; it is safe to share one instance between threads (each call
    uses its own session and transaction).
    """

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self._closed = False

    @classmethod
    def open(cls, url: str | URL | Path | None = None, *, config: CNSConfig | None = None) -> SQLStore:
        """Open (creating and migrating if needed) the store at ``url``.

        ``url`` may be a SQLAlchemy URL or a path (``Path`` or a string without ``://``) to a
        SQLite file; without it the URL comes from
        ``config`` (``database_url``, else ``<data_dir>/cns.sqlite3``).
        """
        if url is None:
            target = database_url(config or get_config())
        elif isinstance(url, Path) or (isinstance(url, str) and "://" not in url):
            target = sqlite_url(url)
        else:
            target = normalize_url(url)
        shown = target.render_as_string(hide_password=True)
        engine = make_engine(target)
        try:
            revision = upgrade(engine)
        except SQLAlchemyError as exc:
            engine.dispose()
            raise StoreError(f"cannot open the store at {shown}: {_first_line(exc)}", url=shown) from exc
        except BaseException:
            engine.dispose()
            raise
        log.info("store.open", url=shown, backend=engine.dialect.name, revision=revision)
        return cls(engine)

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._engine.dialect.name

    @property
    def url(self) -> str:
        """The database URL with any password masked (safe to log or print)."""
        return self._engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        """Release pooled connections (idempotent)."""
        if not self._closed:
            self._engine.dispose()
            self._closed = True

    def __enter__(self) -> SQLStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def counts(self) -> dict[str, int]:
        """Row counts for ``cns stats``: each table, SNOs per status and jobs per state."""
        tables = {
            "documents": Document,
            "snos": SNORow,
            "tombstones": SNOTombstone,
            "evidence_keys": EvidenceKey,
            "critic_results": CriticResultRow,
            "pairs": PairRow,
            "synthesis_attempts": AttemptRow,
            "jobs": JobRow,
        }
        with self._reading("counts") as session:
            result = {
                name: int(session.scalar(select(func.count()).select_from(model)) or 0)
                for name, model in tables.items()
            }
            for status, n in session.execute(select(SNORow.status, func.count()).group_by(SNORow.status)):
                result[f"snos_{status}"] = int(n)
            for state, n in session.execute(select(JobRow.state, func.count()).group_by(JobRow.state)):
                result[f"jobs_{state}"] = int(n)
        return result

    def __repr__(self) -> str:
        return f"SQLStore({self.url!r})"


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
