"""Plain value objects returned by every store repository (in memory, SQLite, PostgreSQL).

They are frozen dataclasses rather than ORM rows so that callers never hold a live database
session, never trigger lazy loads after the session closed, and can pass them across threads.
They are part of the core (pure, no I/O) because the repository protocols of :mod:`cns.ports`
speak in them; :mod:`cns.store.sql.records` re-exports them under their older import path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Generic, NamedTuple, TypeVar

import numpy as np

from cns.core.ids import pair_id_for as pair_id_for
from cns.core.pair_json import pair_json
from cns.ports import FloatArray

T = TypeVar("T")


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC (what every stored timestamp is)."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """``value`` in UTC; a naive datetime is taken to be UTC already (as the database does)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class SNOChange(NamedTuple):
    """One entry of the change feed read by the vector index (latest state per SNO)."""

    seq: int
    sno_id: str
    embedding: FloatArray | None
    deleted: bool
    status: str | None = None
    trust: float | None = None


class ChangePage(NamedTuple):
    """One read of the change feed: the changes, and how far a reader that applies them has synced.

    ``through`` is the store's change counter when ``complete`` (every change up to it is in
    ``changes``), else the seq of the last change of a full page (read on from there).
    """

    changes: list[SNOChange]
    through: int
    complete: bool


@dataclass(frozen=True)
class NewDocument:
    """A document to store together with another write (e.g. the ingest job that refers to it)."""

    text: str
    source: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    owner_key_id: str | None = None


@dataclass(frozen=True)
class DocumentRecord:
    document_id: str
    source: str | None
    metadata: dict[str, Any]
    char_count: int
    created_at: datetime
    owner_key_id: str | None = None


@dataclass(frozen=True)
class PairRecord:
    """A chiral pair as found by the pair search; ``sno_a < sno_b`` after storing.

    It keeps everything the search said about the pair — the opposition term, whether it came
    from shared evidence or from the opposition search, the evidence matches — so a pair read
    back from the store shows and synthesizes the same as the pair just found.
    """

    sno_a: str
    sno_b: str
    chirality: float
    entanglement: float
    potential: float
    shared: list[Any] = field(default_factory=list)
    conflicts: list[Any] = field(default_factory=list)
    found_at: datetime | None = None
    opposition: float = 0.0
    source: str = "evidence"
    evidence_matches: list[Any] = field(default_factory=list)

    @property
    def pair_id(self) -> str:
        return pair_id_for(self.sno_a, self.sno_b)

    def to_dict(self) -> dict[str, Any]:
        """The pair's JSON (:func:`~cns.core.pair_json.pair_json`), as the API and exports show it."""
        return pair_json(
            sno_a=self.sno_a,
            sno_b=self.sno_b,
            chirality=self.chirality,
            entanglement=self.entanglement,
            potential=self.potential,
            opposition=self.opposition,
            source=self.source,
            shared_evidence=[str(k) for k in self.shared],
            evidence_matches=[m for m in self.evidence_matches if isinstance(m, dict)],
            conflict_points=[c for c in self.conflicts if isinstance(c, dict)],
            found_at=self.found_at,
        )


@dataclass(frozen=True)
class AttemptRecord:
    """One synthesis attempt of a pair, with the cooldown before the pair may be tried again."""

    pair_id: str
    attempt_no: int
    started_at: datetime
    finished_at: datetime | None
    accepted: bool | None
    result_sno_id: str | None
    reasons: list[Any]
    cooldown_until: datetime | None


class JobState(StrEnum):
    PENDING = "PENDING"
    STARTED = "STARTED"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"

    @property
    def terminal(self) -> bool:
        return self in (JobState.SUCCESS, JobState.FAILURE)


@dataclass(frozen=True)
class JobRecord:
    job_id: str
    kind: str
    state: JobState
    attempts: int
    payload: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    idempotency_key: str | None
    created_at: datetime
    updated_at: datetime
    deadline: datetime | None
    #: Fencing token: raised by every claim, so a write carrying an older token is refused.
    lease_token: int = 0
    #: The process running the job (``host:pid``) while its lease lives; None when released.
    lease_owner: str | None = None
    #: When the running job's lease runs out unless its worker renews it.
    lease_expires_at: datetime | None = None


@dataclass(frozen=True)
class LeaseTerms:
    """What a worker asks for when it claims a job: who holds the lease, and for how long."""

    holder: str
    seconds: float


@dataclass(frozen=True)
class JobSubmission:
    """The outcome of ``submit_job`` (:class:`cns.ports.JobRepository`).

    ``document_shared`` says whether the submitted document already belonged to another
    submitter (another API key, or none): True or False when this call created the job and
    stored its document, None otherwise (no document, or an existing job was returned).
    """

    job: JobRecord
    created: bool
    document_shared: bool | None = None


@dataclass(frozen=True)
class AttemptWrite:
    """A synthesis attempt to append for ``pair_id``; the store numbers it (last + 1)."""

    pair_id: str
    started_at: datetime
    finished_at: datetime | None
    accepted: bool | None
    result_sno_id: str | None
    reasons: list[Any]
    cooldown_until: datetime | None


@dataclass(frozen=True)
class JobCompletion:
    """A job to mark SUCCESS with ``result`` in the same transaction as another write.

    ``lease_token`` fences the write: with a token, nothing of the transaction is written when
    the job has been claimed again since (a newer token), so a worker that lost its lease while
    it was slow cannot store its result over the one of the worker that took the job over.
    """

    job_id: str
    result: dict[str, Any]
    lease_token: int | None = None


@dataclass(frozen=True)
class JobClaim:
    """The outcome of ``claim_job`` (:class:`cns.ports.JobRepository`).

    ``started``: this delivery was counted and the job is now STARTED. Otherwise ``job`` is the
    job as it is (finished, at the poison cap, or running under another process's live lease,
    named by ``held_by``), or None when no job has that id.
    """

    job: JobRecord | None
    started: bool
    held_by: str | None = None


@dataclass(frozen=True)
class ApiKeyRecord:
    """A stored API key: only the salted digest of its secret, never the secret itself."""

    key_id: str
    name: str
    salt: str
    digest: str
    scope: str
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list (``items``) and how many items match in all (``total``)."""

    items: list[T]
    total: int


@dataclass(frozen=True)
class SNOHead:
    """What a list shows of an SNO named by another row (a pair's side): its file and hypothesis."""

    sno_id: str
    source: str | None
    hypothesis: str


@dataclass(frozen=True)
class SNOQuery:
    """More filters of a page of SNOs (the web interface's narratives list).

    ``source_contains``: part of the source (file name or path), any case; ``created_from`` /
    ``created_before``: a half-open range of creation times; ``with_document``: True for SNOs
    from documents, False for those without one (syntheses); ``newest_first`` reverses the order.
    """

    source_contains: str | None = None
    created_from: datetime | None = None
    created_before: datetime | None = None
    with_document: bool | None = None
    newest_first: bool = False


@dataclass(frozen=True)
class SynthesisRecord:
    """A finished synthesis attempt with the two SNOs of its pair (a row of ``GET /syntheses``)."""

    attempt: AttemptRecord
    sno_a: str
    sno_b: str


@dataclass(frozen=True)
class DeletionReport:
    """What ``delete_document`` removed, so the caller can drop index entries."""

    document_id: str
    document_removed: bool
    sno_ids: list[str]
    synthesis_ids: list[str]
    pair_ids: list[str]
    attempts_removed: int

    @property
    def all_sno_ids(self) -> list[str]:
        return [*self.sno_ids, *self.synthesis_ids]


def embedding_to_bytes(vector: np.ndarray | None) -> bytes | None:
    return None if vector is None else np.asarray(vector, dtype="<f4").tobytes()


def embedding_from_bytes(raw: bytes | None) -> FloatArray | None:
    return None if raw is None else np.frombuffer(raw, dtype="<f4").astype(np.float32)
