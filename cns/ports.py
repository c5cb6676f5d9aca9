"""Ports: the interfaces the pure core depends on.

Every model-backed or stateful dependency of CNS is described here as a ``typing.Protocol``.
Implementations live one per module (``cns.models.*``, ``cns.index.*``, ``cns.store.*``) and a
deterministic fake of each ships in :mod:`cns.testing.fakes`, selectable from configuration, so
that tests, CI and offline demos never need a network or a GPU.

Conventions shared by all ports:

* embeddings are ``float32`` arrays, one row per text, **L2-normalised** (the novelty ÷2 and
  the chirality ranges assume unit vectors, docs/design-notes.md#unit-vectors);
* NLI probabilities are ``(n, 3)`` arrays in the fixed column order
  ``(entailment, neutral, contradiction)`` whose rows sum to 1;
* every model port exposes ``name`` and ``version`` so that each critic result can record
  which backend produced it.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from datetime import datetime

    from cns.core.records import (
        ApiKeyRecord,
        AttemptRecord,
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
        Page,
        PairRecord,
        SNOChange,
        SNOHead,
        SNOQuery,
        SynthesisRecord,
    )
    from cns.core.sno import StructuredNarrativeObject

FloatArray = NDArray[np.float32]

#: Column index of each NLI label in the arrays returned by :meth:`NLIModel.predict`.
ENTAILMENT, NEUTRAL, CONTRADICTION = 0, 1, 2
NLI_LABELS: tuple[str, str, str] = ("entailment", "neutral", "contradiction")


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-length dense vectors."""

    @property
    def name(self) -> str:
        """Model identifier (Hugging Face id, path or ``fake:...``)."""
        ...

    @property
    def version(self) -> str:
        """A string that changes whenever the vectors for the same text could change."""
        ...

    @property
    def dimension(self) -> int:
        """Length of each returned vector."""
        ...

    def encode(self, texts: Sequence[str]) -> FloatArray:
        """Return an ``(len(texts), dimension)`` float32 array of L2-normalised rows."""
        ...


@runtime_checkable
class NLIModel(Protocol):
    """Natural-language inference: how a premise bears on a hypothesis."""

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...

    def predict(self, pairs: Sequence[tuple[str, str]]) -> FloatArray:
        """Return ``(n, 3)`` probabilities (entailment, neutral, contradiction) for (premise, hypothesis)."""
        ...


@runtime_checkable
class LLMClient(Protocol):
    """A chat-completion model used for extraction, synthesis and (optionally) NLI."""

    @property
    def name(self) -> str: ...

    def complete(
        self,
        messages: Sequence[dict[str, str]],
        *,
        temperature: float = 0.2,
        max_tokens: int = 2048,
        json_schema: dict[str, Any] | None = None,
    ) -> str:
        """Return the assistant's text for the conversation ``messages``."""
        ...


@runtime_checkable
class VectorIndex(Protocol):
    """Nearest-neighbour search over unit vectors keyed by stable string ids."""

    @property
    def dimension(self) -> int: ...

    def __len__(self) -> int: ...

    def add(self, ids: Sequence[str], vectors: FloatArray) -> None:
        """Insert or replace the vectors for ``ids`` (re-adding an id replaces it: idempotent)."""
        ...

    def remove(self, ids: Iterable[str]) -> int:
        """Remove ``ids`` that are present; return how many were removed."""
        ...

    def search(self, queries: FloatArray, k: int) -> list[list[tuple[str, float]]]:
        """For each query row return up to ``k`` ``(id, inner_product)`` pairs, best first."""
        ...

    def ids(self) -> list[str]: ...


@runtime_checkable
class ChangeFeed(Protocol):
    """The numbered changes of a store's SNOs: what an index that follows the store reads.

    Every SNO write and delete gets the next number, so a reader that remembers the last number it
    applied asks only for what came after it; both stores implement it (``SNORepository`` below).
    """

    def changes_since(self, seq: int, *, limit: int | None = None) -> ChangePage:
        """Changes numbered above ``seq``, oldest first, latest state per SNO, deletions included."""
        ...


@runtime_checkable
class SNOStore(Protocol):
    """Persistence of SNOs. The reference implementation is in-memory; SQL lives in ``cns.store``."""

    def put(self, sno: StructuredNarrativeObject) -> None:
        """Insert or replace by ``sno_id``."""
        ...

    def get(self, sno_id: str) -> StructuredNarrativeObject:
        """Return the SNO or raise :class:`cns.errors.SNONotFoundError`."""
        ...

    def delete(self, sno_id: str) -> bool: ...

    def list(
        self, *, status: str | None = None, min_trust: float | None = None
    ) -> list[StructuredNarrativeObject]: ...

    def __len__(self) -> int: ...


class Publisher(Protocol):
    """What the service layer needs from a broker: send a task by name with job-id arguments.

    The service layer names tasks by their stable string (:mod:`cns.services.job_kinds`) and
    never imports the broker library; the Celery implementation is
    :class:`cns.worker.publisher.CeleryPublisher`.
    """

    def publish(self, task_name: str, *args: str, task_id: str | None = None) -> None:
        """Send ``task_name(*args)``; raise :class:`~cns.errors.BrokerUnavailable` past the deadline."""
        ...

    def queue_depth(self) -> int | None:
        """Messages waiting in the task queue, or ``None`` when unknown (broker down)."""
        ...

    def ping(self) -> None:
        """Raise :class:`~cns.errors.BrokerUnavailable` unless the broker answers."""
        ...

    def canary(self, timeout: float) -> None:
        """Raise unless a worker runs the canary task within ``timeout`` seconds."""
        ...


# =================================================================================================
# Store repositories
#
# The store is a set of small repositories composed on one database (``cns.store.sql.SQLStore``
# exposes them as ``store.snos``, ``store.documents``, …; ``cns.store.memory.InMemoryStore`` is
# the reference implementation). Every implementation raises :class:`cns.errors.StoreError` for a
# database failure — the API answers it with 503 — and runs the contract tests of
# ``tests/store/repository_contract.py``. The value objects are those of :mod:`cns.core.records`.
# =================================================================================================


@runtime_checkable
class SNORepository(SNOStore, Protocol):
    """SNOs, and the change feed a vector index follows (every write and delete numbered)."""

    def put(self, sno: StructuredNarrativeObject, *, document_id: str | None = None) -> None:
        """Insert or replace by ``sno_id``; ``document_id`` (or ``metadata["document_id"]``) must
        name a stored document."""
        ...

    def put_many(self, snos: Iterable[StructuredNarrativeObject]) -> int:
        """Store every one of ``snos`` or, if one fails, none of them."""
        ...

    def contains(self, sno_id: str) -> bool: ...

    def count_document_snos(self) -> int:
        """How many stored SNOs were extracted from a document (syntheses were not)."""
        ...

    def find_by_content_hash(self, content_hash: str) -> list[str]: ...

    def current_seq(self) -> int:
        """The number of the latest change (0 for an empty store)."""
        ...

    def changes_since(self, seq: int, *, limit: int | None = None) -> ChangePage:
        """Changes numbered above ``seq``, oldest first, latest state per SNO, deletions included."""
        ...

    def snos_since(self, seq: int, *, limit: int | None = None) -> list[SNOChange]: ...


@runtime_checkable
class DocumentRepository(Protocol):
    """Documents (content-addressed), their owners, and the delete that cascades from them."""

    def put_document(
        self, text: str, *, source: str | None = None, metadata: dict[str, Any] | None = None
    ) -> DocumentRecord: ...

    def get_document(self, document_id: str) -> DocumentRecord | None: ...

    def document_exists(self, document_id: str) -> bool: ...

    def document_owner(self, document_id: str) -> tuple[bool, str | None]:
        """(the document exists, the API key that submitted it)."""
        ...

    def list_documents(self) -> list[DocumentRecord]: ...

    def document_text(self, document_id: str) -> str | None:
        """The document's whole text, which its SNOs' spans are offsets into; None for a document
        stored before the store kept texts, or one not stored."""
        ...

    def snos_of_document(self, document_id: str) -> list[str]: ...

    def delete_document(self, document_id: str) -> DeletionReport:
        """Remove the document, its SNOs, the syntheses derived from them, their pairs and attempts."""
        ...

    def put_with_document(
        self,
        sno: StructuredNarrativeObject,
        text: str,
        *,
        source: str | None = None,
        metadata: dict[str, Any] | None = None,
        completes: JobCompletion | None = None,
    ) -> JobRecord | None:
        """Store the document, the SNO extracted from it and (``completes``) the job's SUCCESS at once."""
        ...


@runtime_checkable
class PairRepository(Protocol):
    """Chiral pairs (one row per unordered pair) and their numbered synthesis attempts."""

    def record_pair(self, pair: PairRecord) -> PairRecord: ...

    def get_pair(self, pair_id: str) -> PairRecord | None: ...

    def list_pairs(
        self, *, min_potential: float | None = None, sno_id: str | None = None, limit: int | None = None
    ) -> list[PairRecord]: ...

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
    ) -> AttemptRecord: ...

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
    ) -> AttemptRecord: ...

    def last_attempt(self, pair_id: str) -> AttemptRecord | None: ...

    def list_attempts(self, pair_id: str) -> list[AttemptRecord]: ...


@runtime_checkable
class JobRepository(Protocol):
    """The durable job table: every transition harmless when a delivery repeats it."""

    def create_job(
        self,
        kind: str,
        payload: dict[str, Any] | None = None,
        *,
        job_id: str | None = None,
        idempotency_key: str | None = None,
        deadline: datetime | None = None,
        document: NewDocument | None = None,
    ) -> tuple[JobRecord, bool]: ...

    def submit_job(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        idempotency_key: str | None = None,
        deadline: datetime | None = None,
        document: NewDocument | None = None,
    ) -> JobSubmission: ...

    def get_job(self, job_id: str) -> JobRecord | None: ...

    def job_by_key(self, idempotency_key: str) -> JobRecord | None: ...

    def start_job(self, job_id: str) -> JobRecord: ...

    def claim_job(self, job_id: str, *, max_deliveries: int, lease: LeaseTerms | None = None) -> JobClaim:
        """Count a delivery and take a new fencing token (and ``lease``); refused when the job is
        finished, at the poison cap, or held by another process's live lease (``held_by``)."""
        ...

    def renew_lease(self, job_id: str, token: int, *, seconds: float) -> bool:
        """Extend the lease held under ``token``; False once the job has moved on without it."""
        ...

    def release_lease(self, job_id: str, token: int, *, reserve_seconds: float) -> bool:
        """Drop the owner of the lease held under ``token``, keeping the job reserved a while."""
        ...

    def expired_leases(self, now: datetime | None = None) -> list[JobRecord]:
        """STARTED jobs whose lease ran out."""
        ...

    def requeue_expired(
        self, job_id: str, token: int, *, now: datetime, deadline: datetime | None = None
    ) -> JobRecord | None:
        """Back to PENDING if the lease under ``token`` is still expired at ``now``; else None."""
        ...

    def complete_job(
        self, job_id: str, result: dict[str, Any], *, lease_token: int | None = None
    ) -> JobRecord:
        """Mark SUCCESS (first result wins); with ``lease_token``, only while the job holds it."""
        ...

    def fail_job(self, job_id: str, error: str, *, lease_token: int | None = None) -> JobRecord: ...

    def release_job(self, job_id: str, *, attempt: int, deadline: datetime | None = None) -> JobRecord | None:
        """Undo delivery ``attempt``'s claim after a transient failure (PENDING, one attempt less),
        only while the job is still STARTED at that count; None when nothing was released."""
        ...

    def requeue_job(self, job_id: str, *, deadline: datetime | None = None) -> JobRecord: ...

    def list_jobs(
        self,
        *,
        state: JobState | str | None = None,
        kind: str | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[JobRecord]:
        """Jobs oldest first (newest first with ``newest_first``), at most ``limit``."""
        ...

    def overdue_jobs(self, now: datetime | None = None) -> list[JobRecord]: ...


@runtime_checkable
class ApiKeyRepository(Protocol):
    """API keys as salted digests (hashing and checking live in ``cns.services.apikeys``)."""

    def add(self, key: ApiKeyRecord) -> ApiKeyRecord:
        """Store a new key; a key id already stored is refused with :class:`cns.errors.StoreError`."""
        ...

    def get(self, key_id: str) -> ApiKeyRecord | None: ...

    def list(self) -> builtins.list[ApiKeyRecord]:
        """Every key, oldest first."""
        ...

    def revoke(self, key_id: str, *, at: datetime | None = None) -> ApiKeyRecord | None:
        """Mark the key revoked (a revoked key keeps its first revocation time); None if unknown."""
        ...


@runtime_checkable
class MarkerRepository(Protocol):
    """Named numbers the lifecycle keeps in the store, shared by every process."""

    def read(self, name: str) -> int | None: ...

    def write(self, name: str, value: int) -> None: ...

    def take_turn(self, name: str, *, now: int, every: int) -> bool:
        """True for the one caller that finds the marker ``every`` or more older than ``now``
        (or missing); it then holds ``now``."""
        ...


@runtime_checkable
class PagedReads(Protocol):
    """The pages and aggregates the API lists and the metrics read (no full population load)."""

    def snos_page(
        self,
        *,
        limit: int,
        offset: int,
        status: str | None = None,
        min_trust: float | None = None,
        source: str | None = None,
        query: SNOQuery | None = None,
    ) -> Page[dict[str, Any]]:
        """SNO JSON documents, oldest first (``query``: more filters, newest first)."""
        ...

    def pairs_page(self, *, limit: int, offset: int, min_potential: float | None = None) -> Page[PairRecord]:
        """Pairs, highest synthesis potential first."""
        ...

    def syntheses_page(
        self, *, limit: int, offset: int, accepted: bool | None = None
    ) -> Page[SynthesisRecord]:
        """Finished attempts, newest first; ``accepted=False`` lists rejections, not errors."""
        ...

    def sno_heads(self, sno_ids: Sequence[str]) -> dict[str, SNOHead]:
        """Source and hypothesis of each stored SNO named (absent ids are left out), in one read."""
        ...

    def jobs_by_state(self) -> dict[tuple[str, str], int]: ...

    def trust_histogram(self, buckets: Sequence[float]) -> tuple[list[int], float, int]:
        """Cumulative counts (``le``), sum and count of the SNOs' trust scores."""
        ...

    def job_latency_histogram(self, buckets: Sequence[float], kind: str) -> tuple[list[int], float, int]:
        """The same over the seconds from creation to success of the jobs of ``kind``."""
        ...

    def synthesis_outcomes(self) -> tuple[int, int]:
        """(accepted, finished) synthesis attempts."""
        ...

    def counts(self) -> dict[str, int]:
        """Rows per table, SNOs per status (``snos_<status>``) and jobs per state (``jobs_<state>``)."""
        ...


class StoreRepositories(Protocol):
    """A store: its repositories, all on one database."""

    @property
    def snos(self) -> SNORepository: ...

    @property
    def documents(self) -> DocumentRepository: ...

    @property
    def pairs(self) -> PairRepository: ...

    @property
    def jobs(self) -> JobRepository: ...

    @property
    def api_keys(self) -> ApiKeyRepository: ...

    @property
    def markers(self) -> MarkerRepository: ...

    @property
    def reads(self) -> PagedReads: ...
