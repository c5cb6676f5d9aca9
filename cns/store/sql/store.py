"""``SQLStore``: the persistent store of a CNS deployment (SQLite file or PostgreSQL).

A facade over small repositories composed on one engine — ``store.snos``, ``store.documents``,
``store.pairs`` (with attempts), ``store.jobs``, ``store.api_keys``, ``store.markers`` and
``store.reads`` (pages and aggregates) — each behind a protocol of :mod:`cns.ports`. New code
uses the repositories; the methods of the facade are the same operations under the names they
always had, so callers need not all change at once. Opening a store applies the shipped
migrations, so a fresh data folder or an empty PostgreSQL database is usable immediately.

Several processes may open the same database: the CLI, API workers and Celery workers all share
it: one shared population instead of one per worker (docs/design-notes.md#one-shared-population).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import SQLAlchemyError

from cns.config import CNSConfig, get_config
from cns.core.records import (
    AttemptRecord,
    AttemptWrite,
    ChangePage,
    DeletionReport,
    DocumentRecord,
    JobClaim,
    JobCompletion,
    JobRecord,
    JobState,
    JobSubmission,
    LeaseTerms,
    NewDocument,
    PairRecord,
    SNOChange,
)
from cns.core.sno import StructuredNarrativeObject
from cns.errors import StoreError, StoreUnavailableError
from cns.logging_setup import get_logger
from cns.store.sql._apikeys import SQLApiKeyRepository
from cns.store.sql._base import Database, transient_failure
from cns.store.sql._documents import SQLDocumentRepository
from cns.store.sql._jobs import SQLJobRepository
from cns.store.sql._lookup import IdKind, IdMatch, SQLIdLookup
from cns.store.sql._markers import SQLMarkerRepository
from cns.store.sql._pairs import SQLPairRepository
from cns.store.sql._reads import SQLPagedReads
from cns.store.sql._snos import SQLSNORepository
from cns.store.sql.engine import make_engine
from cns.store.sql.migrate import upgrade
from cns.store.sql.url import database_url, normalize_url, sqlite_url

log = get_logger(__name__)


class SQLStore:
    """The repositories of one database, and the facade methods that delegate to them.

    Build it with :meth:`open` (or from an engine whose schema is already migrated); it is safe to
    share one instance between threads (each call uses its own session and transaction).
    """

    def __init__(self, engine: Engine) -> None:
        self._db = Database(engine)
        self.snos = SQLSNORepository(self._db)
        self.documents = SQLDocumentRepository(self._db)
        self.pairs = SQLPairRepository(self._db)
        self.jobs = SQLJobRepository(self._db)
        self.api_keys = SQLApiKeyRepository(self._db)
        self.markers = SQLMarkerRepository(self._db)
        self.reads = SQLPagedReads(self._db)
        self.lookup = SQLIdLookup(self._db)
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
            kind = StoreUnavailableError if transient_failure(exc) else StoreError
            raise kind(f"cannot open the store at {shown}: {_first_line(exc)}", url=shown) from exc
        except BaseException:
            engine.dispose()
            raise
        log.info("store.open", url=shown, backend=engine.dialect.name, revision=revision)
        return cls(engine)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for the store's own tests and tools; code outside the store
        goes through the repositories)."""
        return self._db.engine

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._db.dialect

    @property
    def url(self) -> str:
        """The database URL with any password masked (safe to log or print)."""
        return self._db.engine.url.render_as_string(hide_password=True)

    def ping(self) -> None:
        """Raise :class:`~cns.errors.StoreError` unless the database answers a trivial query."""
        self._db.ping()

    def ids_with_prefix(self, kind: IdKind, prefix: str, *, limit: int = 10) -> list[IdMatch]:
        """Stored SNOs, documents or pairs whose id starts with ``prefix`` (:mod:`._lookup`)."""
        return self.lookup.ids_with_prefix(kind, prefix, limit=limit)

    def snos_with_source(self, name: str, *, limit: int = 10) -> list[IdMatch]:
        """SNOs whose source is ``name`` or ends in ``/name``."""
        return self.lookup.snos_with_source(name, limit=limit)

    def close(self) -> None:
        """Release pooled connections (idempotent)."""
        if not self._closed:
            self._db.engine.dispose()
            self._closed = True

    def __enter__(self) -> SQLStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SQLStore({self.url!r})"

    # ------------------------------------------------------------------ SNOs (self.snos)
    def put(self, sno: StructuredNarrativeObject, *, document_id: str | None = None) -> None:
        self.snos.put(sno, document_id=document_id)

    def put_many(self, snos: Iterable[StructuredNarrativeObject]) -> int:
        return self.snos.put_many(snos)

    def get(self, sno_id: str) -> StructuredNarrativeObject:
        return self.snos.get(sno_id)

    def contains(self, sno_id: str) -> bool:
        return self.snos.contains(sno_id)

    def delete(self, sno_id: str) -> bool:
        return self.snos.delete(sno_id)

    def list(
        self, *, status: str | None = None, min_trust: float | None = None
    ) -> builtins.list[StructuredNarrativeObject]:
        return self.snos.list(status=status, min_trust=min_trust)

    def __len__(self) -> int:
        return len(self.snos)

    def count_document_snos(self) -> int:
        return self.snos.count_document_snos()

    def find_by_content_hash(self, content_hash: str) -> builtins.list[str]:
        return self.snos.find_by_content_hash(content_hash)

    def current_seq(self) -> int:
        return self.snos.current_seq()

    def snos_since(self, seq: int, *, limit: int | None = None) -> builtins.list[SNOChange]:
        return self.snos.snos_since(seq, limit=limit)

    def changes_since(self, seq: int, *, limit: int | None = None) -> ChangePage:
        return self.snos.changes_since(seq, limit=limit)

    # ------------------------------------------------------------------ documents (self.documents)
    def put_document(
        self, text: str, *, source: str | None = None, metadata: dict[str, Any] | None = None
    ) -> DocumentRecord:
        return self.documents.put_document(text, source=source, metadata=metadata)

    def document_owner(self, document_id: str) -> tuple[bool, str | None]:
        return self.documents.document_owner(document_id)

    def get_document(self, document_id: str) -> DocumentRecord | None:
        return self.documents.get_document(document_id)

    def document_exists(self, document_id: str) -> bool:
        return self.documents.document_exists(document_id)

    def list_documents(self) -> builtins.list[DocumentRecord]:
        return self.documents.list_documents()

    def snos_of_document(self, document_id: str) -> builtins.list[str]:
        return self.documents.snos_of_document(document_id)

    def delete_document(self, document_id: str) -> DeletionReport:
        return self.documents.delete_document(document_id)

    def put_with_document(
        self,
        sno: StructuredNarrativeObject,
        text: str,
        *,
        source: str | None = None,
        metadata: dict[str, Any] | None = None,
        completes: JobCompletion | None = None,
    ) -> JobRecord | None:
        return self.documents.put_with_document(
            sno, text, source=source, metadata=metadata, completes=completes
        )

    # ------------------------------------------------------------------ pairs (self.pairs)
    def record_pair(self, pair: PairRecord) -> PairRecord:
        return self.pairs.record_pair(pair)

    def put_synthesis(
        self,
        sno: StructuredNarrativeObject | None,
        attempts: Sequence[AttemptWrite],
        *,
        completes: JobCompletion | None = None,
    ) -> JobRecord | None:
        return self.pairs.put_synthesis(sno, attempts, completes=completes)

    def get_pair(self, pair_id: str) -> PairRecord | None:
        return self.pairs.get_pair(pair_id)

    def list_pairs(
        self, *, min_potential: float | None = None, sno_id: str | None = None, limit: int | None = None
    ) -> builtins.list[PairRecord]:
        return self.pairs.list_pairs(min_potential=min_potential, sno_id=sno_id, limit=limit)

    def record_attempt(
        self,
        pair_id: str,
        *,
        started_at: datetime | None = None,
        finished_at: datetime | None = None,
        accepted: bool | None = None,
        result_sno_id: str | None = None,
        reasons: Sequence[Any] = (),
        cooldown_until: datetime | None = None,
    ) -> AttemptRecord:
        return self.pairs.record_attempt(
            pair_id,
            started_at=started_at,
            finished_at=finished_at,
            accepted=accepted,
            result_sno_id=result_sno_id,
            reasons=reasons,
            cooldown_until=cooldown_until,
        )

    def finish_attempt(
        self,
        pair_id: str,
        attempt_no: int,
        *,
        accepted: bool,
        result_sno_id: str | None = None,
        reasons: Sequence[Any] = (),
        cooldown_until: datetime | None = None,
        finished_at: datetime | None = None,
    ) -> AttemptRecord:
        return self.pairs.finish_attempt(
            pair_id,
            attempt_no,
            accepted=accepted,
            result_sno_id=result_sno_id,
            reasons=reasons,
            cooldown_until=cooldown_until,
            finished_at=finished_at,
        )

    def last_attempt(self, pair_id: str) -> AttemptRecord | None:
        return self.pairs.last_attempt(pair_id)

    def list_attempts(self, pair_id: str) -> builtins.list[AttemptRecord]:
        return self.pairs.list_attempts(pair_id)

    # ------------------------------------------------------------------ jobs (self.jobs)
    def create_job(
        self,
        kind: str,
        payload: dict[str, Any] | None = None,
        *,
        job_id: str | None = None,
        idempotency_key: str | None = None,
        deadline: datetime | None = None,
        document: NewDocument | None = None,
    ) -> tuple[JobRecord, bool]:
        return self.jobs.create_job(
            kind,
            payload,
            job_id=job_id,
            idempotency_key=idempotency_key,
            deadline=deadline,
            document=document,
        )

    def submit_job(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        idempotency_key: str | None = None,
        deadline: datetime | None = None,
        document: NewDocument | None = None,
    ) -> JobSubmission:
        return self.jobs.submit_job(
            kind, payload, idempotency_key=idempotency_key, deadline=deadline, document=document
        )

    def get_job(self, job_id: str) -> JobRecord | None:
        return self.jobs.get_job(job_id)

    def job_by_key(self, idempotency_key: str) -> JobRecord | None:
        return self.jobs.job_by_key(idempotency_key)

    def start_job(self, job_id: str) -> JobRecord:
        return self.jobs.start_job(job_id)

    def claim_job(self, job_id: str, *, max_deliveries: int, lease: LeaseTerms | None = None) -> JobClaim:
        return self.jobs.claim_job(job_id, max_deliveries=max_deliveries, lease=lease)

    def complete_job(
        self, job_id: str, result: dict[str, Any], *, lease_token: int | None = None
    ) -> JobRecord:
        return self.jobs.complete_job(job_id, result, lease_token=lease_token)

    def fail_job(self, job_id: str, error: str, *, lease_token: int | None = None) -> JobRecord:
        return self.jobs.fail_job(job_id, error, lease_token=lease_token)

    def release_job(self, job_id: str, *, attempt: int, deadline: datetime | None = None) -> JobRecord | None:
        return self.jobs.release_job(job_id, attempt=attempt, deadline=deadline)

    def requeue_job(self, job_id: str, *, deadline: datetime | None = None) -> JobRecord:
        return self.jobs.requeue_job(job_id, deadline=deadline)

    def list_jobs(
        self,
        *,
        state: JobState | str | None = None,
        kind: str | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> builtins.list[JobRecord]:
        return self.jobs.list_jobs(state=state, kind=kind, limit=limit, newest_first=newest_first)

    def overdue_jobs(self, now: datetime | None = None) -> builtins.list[JobRecord]:
        return self.jobs.overdue_jobs(now)

    # ------------------------------------------------------------------ markers and counts
    def read_marker(self, name: str) -> int | None:
        return self.markers.read(name)

    def write_marker(self, name: str, value: int) -> None:
        self.markers.write(name, value)

    def counts(self) -> dict[str, int]:
        """Row counts for ``cns stats``: each table, SNOs per status and jobs per state."""
        return self.reads.counts()


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
