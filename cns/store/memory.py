"""The reference store: every repository of :mod:`cns.ports` kept in process memory.

:class:`InMemoryStore` composes the repositories on one :class:`MemoryState` the way
:class:`~cns.store.sql.SQLStore` composes its SQL repositories on one engine, and the same
contract tests (``tests/store/repository_contract.py``) run against both — so this module is the
executable statement of what a store does: content-addressed documents, upserted SNOs with a
numbered change feed and tombstones, unordered pairs with numbered attempts, the cascading
document delete, idempotent job transitions, API keys, markers, pages and aggregates.

Everything is stored as copies (an SNO as its ``to_dict()`` JSON), so a caller mutating what it
passed in or got back never changes what the store holds — the semantics of a database. Each
write checks everything it can refuse before it changes anything, so a refused write (a missing
document, an unknown job) leaves the state as it was, as a rolled-back transaction would. One
lock serialises the calls. :class:`InMemorySNOStore` is the SNO repository on a state of its own
(no documents beside it, so an SNO's ``document_id`` is not checked): the default store of a
workflow manager that persists nothing.
"""

from __future__ import annotations

import builtins
import copy
import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

import numpy as np

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
    as_utc,
    pair_id_for,
    utcnow,
)
from cns.core.sno import StructuredNarrativeObject
from cns.errors import SNONotFoundError, StoreError
from cns.ports import FloatArray
from cns.store.rules import (
    NOT_TERMINAL,
    SNO_SEQ,
    check_evaluation,
    completion_values,
    cumulative_histogram,
    document_id_for,
    forgotten_job,
    lease_expiry,
    lease_is_live,
    missing_document,
    ordered_pair,
    owner_of_payload,
    parent_ids,
    sno_document_id,
    sno_source,
    unstored_pair_snos,
)

T = TypeVar("T")


@dataclass(frozen=True)
class _SNORow:
    """A stored SNO: its JSON and the columns the queries filter and sort on."""

    sno_id: str
    data: dict[str, Any]
    document_id: str | None
    content_hash: str
    embedding: FloatArray | None
    trust: float | None
    status: str
    source: str | None
    created_at: datetime
    seq: int


@dataclass
class MemoryState:
    """The tables of an in-memory store, shared by its repositories."""

    #: False for an SNO repository on its own (no document repository beside it): an SNO's
    #: ``document_id`` is then recorded as given, not checked against stored documents.
    keeps_documents: bool = True
    lock: threading.RLock = field(default_factory=threading.RLock)
    counter: int = 0
    snos: dict[str, _SNORow] = field(default_factory=dict)
    tombstones: dict[str, int] = field(default_factory=dict)
    lineage: dict[str, set[str]] = field(default_factory=dict)  # child → parents
    documents: dict[str, DocumentRecord] = field(default_factory=dict)
    document_texts: dict[str, str] = field(default_factory=dict)
    pairs: dict[str, PairRecord] = field(default_factory=dict)
    attempts: dict[str, list[AttemptRecord]] = field(default_factory=dict)
    jobs: dict[str, JobRecord] = field(default_factory=dict)
    api_keys: dict[str, ApiKeyRecord] = field(default_factory=dict)
    markers: dict[str, int] = field(default_factory=dict)

    def next_seq(self, count: int = 1) -> int:
        first = self.counter + 1
        self.counter += count
        return first


def _out(value: T) -> T:
    """A copy for the caller: records hold lists and dicts the caller might mutate."""
    return copy.deepcopy(value)


# ---------------------------------------------------------------------------------------- SNOs
class MemorySNORepository:
    """SNOs and the change feed (:class:`cns.ports.SNORepository`)."""

    def __init__(self, state: MemoryState | None = None) -> None:
        self._s = state if state is not None else MemoryState(keeps_documents=False)

    def put(self, sno: StructuredNarrativeObject, *, document_id: str | None = None) -> None:
        with self._s.lock:
            source = _document_source(self._s, sno, document_id)
            check_evaluation(sno)
            _put_sno(self._s, sno, sno_document_id(sno, document_id), source, self._s.next_seq())

    def put_many(self, snos: Iterable[StructuredNarrativeObject]) -> int:
        items = list(snos)
        with self._s.lock:
            sources = [_document_source(self._s, sno, None) for sno in items]
            for sno in items:
                check_evaluation(sno)
            if not items:
                return 0
            first = self._s.next_seq(len(items))
            for offset, (sno, source) in enumerate(zip(items, sources, strict=True)):
                _put_sno(self._s, sno, sno_document_id(sno, None), source, first + offset)
        return len(items)

    def get(self, sno_id: str) -> StructuredNarrativeObject:
        with self._s.lock:
            row = self._s.snos.get(sno_id)
            if row is None:
                raise SNONotFoundError.for_id(sno_id)
            return StructuredNarrativeObject.from_dict(row.data)

    def contains(self, sno_id: str) -> bool:
        with self._s.lock:
            return sno_id in self._s.snos

    def delete(self, sno_id: str) -> bool:
        with self._s.lock:
            return _delete_snos(self._s, [sno_id]) == 1

    def list(
        self, *, status: str | None = None, min_trust: float | None = None
    ) -> builtins.list[StructuredNarrativeObject]:
        with self._s.lock:
            rows = _ordered_snos(self._s)
        if status is not None:
            rows = [r for r in rows if r.status == str(status)]
        if min_trust is not None:
            rows = [r for r in rows if r.trust is not None and r.trust >= min_trust]
        return [StructuredNarrativeObject.from_dict(r.data) for r in rows]

    def __len__(self) -> int:
        return len(self._s.snos)

    def count_document_snos(self) -> int:
        with self._s.lock:
            return sum(row.document_id is not None for row in self._s.snos.values())

    def find_by_content_hash(self, content_hash: str) -> builtins.list[str]:
        with self._s.lock:
            return sorted(i for i, row in self._s.snos.items() if row.content_hash == content_hash)

    def current_seq(self) -> int:
        return self._s.counter

    def snos_since(self, seq: int, *, limit: int | None = None) -> builtins.list[SNOChange]:
        return self.changes_since(seq, limit=limit).changes

    def changes_since(self, seq: int, *, limit: int | None = None) -> ChangePage:
        if limit is not None and limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        with self._s.lock:
            counter = self._s.counter
            if counter <= seq:
                return ChangePage([], seq, True)
            live = [
                SNOChange(
                    r.seq, i, None if r.embedding is None else r.embedding.copy(), False, r.status, r.trust
                )
                for i, r in self._s.snos.items()
                if seq < r.seq <= counter
            ]
            dead = [SNOChange(s, i, None, True) for i, s in self._s.tombstones.items() if seq < s <= counter]
        changes = sorted(live + dead, key=lambda c: c.seq)[:limit]
        if limit is not None and len(changes) == limit:
            return ChangePage(changes, changes[-1].seq, changes[-1].seq >= counter)
        return ChangePage(changes, counter, True)


def _document_source(
    state: MemoryState,
    sno: StructuredNarrativeObject,
    document_id: str | None,
    known: tuple[str, str | None] | None = None,
) -> str | None:
    """The source of the SNO's document (raising if the document it names is not stored)."""
    doc_id = sno_document_id(sno, document_id)
    if known is not None and doc_id == known[0]:
        return sno_source(sno, known[1])
    if doc_id is None or not state.keeps_documents:
        return sno_source(sno, None)
    document = state.documents.get(doc_id)
    if document is None:
        raise missing_document(sno, doc_id)
    return sno_source(sno, document.source)


def _put_sno(
    state: MemoryState, sno: StructuredNarrativeObject, document_id: str | None, source: str | None, seq: int
) -> None:
    embedding = sno.hypothesis_embedding
    state.snos[sno.sno_id] = _SNORow(
        sno_id=sno.sno_id,
        data=sno.to_dict(),
        document_id=document_id,
        content_hash=sno.content_hash(),
        embedding=None if embedding is None else np.asarray(embedding, dtype="<f4").astype(np.float32),
        trust=sno.trust_score,
        status=str(sno.status),
        source=source,
        created_at=as_utc(sno.created_at),
        seq=seq,
    )
    state.tombstones.pop(sno.sno_id, None)
    state.lineage[sno.sno_id] = parent_ids(sno)


def _matches(row: _SNORow, query: SNOQuery) -> bool:
    """The :class:`SNOQuery` filters, as the SQL store applies them."""
    if query.source_contains and query.source_contains.lower() not in (row.source or "").lower():
        return False
    if query.created_from is not None and row.created_at < as_utc(query.created_from):
        return False
    if query.created_before is not None and row.created_at >= as_utc(query.created_before):
        return False
    return query.with_document is None or (row.document_id is not None) == query.with_document


def _ordered_snos(state: MemoryState) -> list[_SNORow]:
    return sorted(state.snos.values(), key=lambda r: (r.created_at, r.sno_id))


def _delete_snos(state: MemoryState, sno_ids: Iterable[str]) -> int:
    """Delete SNOs with what depends on them (lineage, pairs, attempts) and leave tombstones."""
    present = sorted(set(sno_ids) & state.snos.keys())
    if not present:
        return 0
    first = state.next_seq(len(present))
    doomed = set(present)
    for offset, sno_id in enumerate(present):
        del state.snos[sno_id]
        state.lineage.pop(sno_id, None)
        state.tombstones[sno_id] = first + offset
    for pair_id in [p for p, pair in state.pairs.items() if {pair.sno_a, pair.sno_b} & doomed]:
        del state.pairs[pair_id]
        state.attempts.pop(pair_id, None)
    return len(present)


# ----------------------------------------------------------------------------------- documents
class MemoryDocumentRepository:
    """Documents and the cascading delete (:class:`cns.ports.DocumentRepository`)."""

    def __init__(self, state: MemoryState) -> None:
        self._s = state

    def put_document(
        self, text: str, *, source: str | None = None, metadata: dict[str, Any] | None = None
    ) -> DocumentRecord:
        with self._s.lock:
            return _out(self._s.documents[_put_document(self._s, text, source, metadata, None)])

    def get_document(self, document_id: str) -> DocumentRecord | None:
        with self._s.lock:
            return _out(self._s.documents.get(document_id))

    def document_exists(self, document_id: str) -> bool:
        return document_id in self._s.documents

    def document_owner(self, document_id: str) -> tuple[bool, str | None]:
        with self._s.lock:
            document = self._s.documents.get(document_id)
            return (False, None) if document is None else (True, document.owner_key_id)

    def list_documents(self) -> builtins.list[DocumentRecord]:
        with self._s.lock:
            documents = sorted(self._s.documents.values(), key=lambda d: (d.created_at, d.document_id))
            return _out(documents)

    def document_text(self, document_id: str) -> str | None:
        with self._s.lock:
            return self._s.document_texts.get(document_id)

    def snos_of_document(self, document_id: str) -> builtins.list[str]:
        with self._s.lock:
            return sorted(i for i, row in self._s.snos.items() if row.document_id == document_id)

    def delete_document(self, document_id: str) -> DeletionReport:
        with self._s.lock:
            _forget_document_in_jobs(self._s, document_id)
            direct = [i for i, row in self._s.snos.items() if row.document_id == document_id]
            derived = _derived_syntheses(self._s, set(direct))
            doomed = set(direct) | derived
            pair_ids = {p for p, pair in self._s.pairs.items() if {pair.sno_a, pair.sno_b} & doomed}
            attempts = sum(len(self._s.attempts.get(p, [])) for p in pair_ids)
            _delete_snos(self._s, doomed)
            removed = self._s.documents.pop(document_id, None) is not None
            self._s.document_texts.pop(document_id, None)
        return DeletionReport(
            document_id=document_id,
            document_removed=removed,
            sno_ids=sorted(direct),
            synthesis_ids=sorted(derived),
            pair_ids=sorted(pair_ids),
            attempts_removed=attempts,
        )

    def put_with_document(
        self,
        sno: StructuredNarrativeObject,
        text: str,
        *,
        source: str | None = None,
        metadata: dict[str, Any] | None = None,
        completes: JobCompletion | None = None,
    ) -> JobRecord | None:
        with self._s.lock:
            owner = None
            if completes is not None:
                job = self._s.jobs.get(completes.job_id)
                if job is not None and _stale(job, completes.lease_token):
                    return _out(job)  # claimed again since: nothing of this write is applied
                owner = owner_of_payload(completes.job_id, None if job is None else job.payload)
                if job is None:
                    raise _no_job("put_with_document", completes.job_id)
            document_id = document_id_for(text)
            sno_source_ = _document_source(self._s, sno, None, known=(document_id, source))
            check_evaluation(sno)
            seq = self._s.next_seq()
            _put_document(self._s, text, source, dict(metadata or {}), owner)
            _put_sno(self._s, sno, sno_document_id(sno, None), sno_source_, seq)
            if completes is None:
                return None
            values, only_if = completion_values(completes.result)
            return _transition(self._s, "put_with_document", completes.job_id, values, only_if)


def _put_document(
    state: MemoryState, text: str, source: str | None, metadata: dict[str, Any] | None, owner: str | None
) -> str:
    """Insert the document, or update source and metadata when the same owner stores it again."""
    document_id = document_id_for(text)
    found = state.documents.get(document_id)
    state.document_texts.setdefault(document_id, text)  # the first text: its SNO's spans point into it
    if found is None:
        state.documents[document_id] = DocumentRecord(
            document_id, source, copy.deepcopy(dict(metadata or {})), len(text), utcnow(), owner
        )
    elif found.owner_key_id == owner:
        state.documents[document_id] = replace(
            found, source=source, metadata=copy.deepcopy(dict(metadata or {}))
        )
    return document_id


def _derived_syntheses(state: MemoryState, roots: set[str]) -> set[str]:
    """Stored SNOs synthesised (directly or transitively) from any of ``roots``."""
    derived: set[str] = set()
    frontier = set(roots)
    while frontier:
        found = {child for child, parents in state.lineage.items() if parents & frontier}
        for pair_id, pair in state.pairs.items():
            if {pair.sno_a, pair.sno_b} & frontier:
                found |= {a.result_sno_id for a in state.attempts.get(pair_id, []) if a.result_sno_id}
        found = (found - roots - derived) & state.snos.keys()
        derived |= found
        frontier = found
    return derived


def _forget_document_in_jobs(state: MemoryState, document_id: str) -> None:
    for job_id, job in list(state.jobs.items()):
        if job.kind == "ingest" and job.payload.get("document_id") == document_id:
            changes = _job_changes(forgotten_job(document_id, job.state.value))
            state.jobs[job_id] = replace(job, updated_at=utcnow(), **changes)


# --------------------------------------------------------------------------------------- pairs
class MemoryPairRepository:
    """Pairs and their synthesis attempts (:class:`cns.ports.PairRepository`)."""

    def __init__(self, state: MemoryState) -> None:
        self._s = state

    def record_pair(self, pair: PairRecord) -> PairRecord:
        low, high = ordered_pair(pair)
        with self._s.lock:
            missing = {low, high} - self._s.snos.keys()
            if missing:
                raise unstored_pair_snos(missing)
            pair_id = pair_id_for(low, high)
            found = self._s.pairs.get(pair_id)
            found_at = as_utc(pair.found_at or utcnow()) if found is None else found.found_at
            stored = PairRecord(
                sno_a=low,
                sno_b=high,
                chirality=float(pair.chirality),
                entanglement=float(pair.entanglement),
                potential=float(pair.potential),
                shared=builtins.list(pair.shared),
                conflicts=builtins.list(pair.conflicts),
                found_at=found_at,
                opposition=float(pair.opposition),
                source=pair.source,
                evidence_matches=builtins.list(pair.evidence_matches),
            )
            self._s.pairs[pair_id] = copy.deepcopy(stored)
            return stored

    def get_pair(self, pair_id: str) -> PairRecord | None:
        with self._s.lock:
            return _out(self._s.pairs.get(pair_id))

    def list_pairs(
        self, *, min_potential: float | None = None, sno_id: str | None = None, limit: int | None = None
    ) -> builtins.list[PairRecord]:
        with self._s.lock:
            pairs = _ordered_pairs(self._s)
        if min_potential is not None:
            pairs = [p for p in pairs if p.potential >= min_potential]
        if sno_id is not None:
            pairs = [p for p in pairs if sno_id in (p.sno_a, p.sno_b)]
        return _out(pairs[:limit])

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
        with self._s.lock:
            if pair_id not in self._s.pairs:
                raise StoreError(f"cannot record an attempt: no stored pair {pair_id!r}", pair_id=pair_id)
            attempts = self._s.attempts.setdefault(pair_id, [])
            attempt = AttemptRecord(
                pair_id=pair_id,
                attempt_no=(attempts[-1].attempt_no if attempts else 0) + 1,
                started_at=as_utc(started_at or utcnow()),
                finished_at=_utc_or_none(finished_at),
                accepted=accepted,
                result_sno_id=result_sno_id,
                reasons=copy.deepcopy(builtins.list(reasons)),
                cooldown_until=_utc_or_none(cooldown_until),
            )
            attempts.append(attempt)
            return _out(attempt)

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
        with self._s.lock:
            attempts = self._s.attempts.get(pair_id, [])
            index = next((n for n, a in enumerate(attempts) if a.attempt_no == attempt_no), None)
            if index is None:
                raise StoreError(
                    f"no attempt {attempt_no} for pair {pair_id!r}", pair_id=pair_id, attempt_no=attempt_no
                )
            attempts[index] = replace(
                attempts[index],
                finished_at=as_utc(finished_at or utcnow()),
                accepted=accepted,
                result_sno_id=result_sno_id,
                reasons=copy.deepcopy(builtins.list(reasons)),
                cooldown_until=_utc_or_none(cooldown_until),
            )
            return _out(attempts[index])

    def last_attempt(self, pair_id: str) -> AttemptRecord | None:
        with self._s.lock:
            attempts = self._s.attempts.get(pair_id)
            return _out(attempts[-1]) if attempts else None

    def list_attempts(self, pair_id: str) -> builtins.list[AttemptRecord]:
        with self._s.lock:
            return _out(self._s.attempts.get(pair_id, []))


def _ordered_pairs(state: MemoryState) -> list[PairRecord]:
    return sorted(state.pairs.values(), key=lambda p: (-p.potential, p.pair_id))


def _utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


# ---------------------------------------------------------------------------------------- jobs
class MemoryJobRepository:
    """The job table (:class:`cns.ports.JobRepository`)."""

    def __init__(self, state: MemoryState) -> None:
        self._s = state

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
        with self._s.lock:
            if idempotency_key is not None:
                existing = self._by_key(idempotency_key)
                if existing is not None:
                    return _out(existing), False
            new_id = job_id or uuid.uuid4().hex
            if new_id in self._s.jobs:
                if idempotency_key is not None:  # the id is taken by another request's job
                    raise StoreError(
                        f"store create_job failed: job id {new_id!r} exists", operation="create_job"
                    )
                return _out(self._s.jobs[new_id]), False
            if document is not None:
                _put_document(
                    self._s, document.text, document.source, document.metadata, document.owner_key_id
                )
            now = utcnow()
            job = JobRecord(
                job_id=new_id,
                kind=kind,
                state=JobState.PENDING,
                attempts=0,
                payload=copy.deepcopy(dict(payload or {})),
                result=None,
                error=None,
                idempotency_key=idempotency_key,
                created_at=now,
                updated_at=now,
                deadline=_utc_or_none(deadline),
            )
            self._s.jobs[new_id] = job
            return _out(job), True

    def submit_job(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        idempotency_key: str | None = None,
        deadline: datetime | None = None,
        document: NewDocument | None = None,
    ) -> JobSubmission:
        with self._s.lock:  # re-entrant: create_job takes it again
            shared: bool | None = None
            if document is not None:
                known = self._s.documents.get(document_id_for(document.text))
                shared = known is not None and known.owner_key_id != document.owner_key_id
            job, created = self.create_job(
                kind, payload, idempotency_key=idempotency_key, deadline=deadline, document=document
            )
            return JobSubmission(job, created, shared if created else None)

    def get_job(self, job_id: str) -> JobRecord | None:
        with self._s.lock:
            return _out(self._s.jobs.get(job_id))

    def job_by_key(self, idempotency_key: str) -> JobRecord | None:
        with self._s.lock:
            return _out(self._by_key(idempotency_key))

    def start_job(self, job_id: str) -> JobRecord:
        with self._s.lock:
            job = self._s.jobs.get(job_id)
            attempts, token = (0, 0) if job is None else (job.attempts + 1, job.lease_token + 1)
            return _transition(
                self._s,
                "start_job",
                job_id,
                {"state": JobState.STARTED.value, "attempts": attempts, "lease_token": token},
                NOT_TERMINAL,
            )

    def claim_job(self, job_id: str, *, max_deliveries: int, lease: LeaseTerms | None = None) -> JobClaim:
        now = utcnow()
        with self._s.lock:
            job = self._s.jobs.get(job_id)
            if job is None:
                return JobClaim(None, started=False)
            if job.state.value not in NOT_TERMINAL:
                return JobClaim(_out(job), started=False)
            if lease_is_live(job.lease_owner, job.lease_expires_at, now):
                return JobClaim(_out(job), started=False, held_by=job.lease_owner)
            if job.attempts >= max_deliveries:
                return JobClaim(_out(job), started=False)
            values = {
                "state": JobState.STARTED.value,
                "attempts": job.attempts + 1,
                "lease_token": job.lease_token + 1,
                "lease_owner": None if lease is None else lease.holder,
                "lease_expires_at": None if lease is None else lease_expiry(now, lease.seconds),
            }
            return JobClaim(_transition(self._s, "claim_job", job_id, values, NOT_TERMINAL), started=True)

    def renew_lease(self, job_id: str, token: int, *, seconds: float) -> bool:
        with self._s.lock:
            job = self._s.jobs.get(job_id)
            if job is None or job.lease_token != token or job.state is not JobState.STARTED:
                return False
            if job.lease_owner is None:
                return False
            self._s.jobs[job_id] = replace(job, lease_expires_at=lease_expiry(utcnow(), seconds))
            return True

    def release_lease(self, job_id: str, token: int, *, reserve_seconds: float) -> bool:
        with self._s.lock:
            job = self._s.jobs.get(job_id)
            if job is None or job.lease_token != token or job.state is not JobState.STARTED:
                return False
            expires = lease_expiry(utcnow(), reserve_seconds)
            self._s.jobs[job_id] = replace(job, lease_owner=None, lease_expires_at=expires)
            return True

    def expired_leases(self, now: datetime | None = None) -> builtins.list[JobRecord]:
        moment = as_utc(now or utcnow())
        with self._s.lock:
            jobs = [
                j
                for j in self._s.jobs.values()
                if j.state is JobState.STARTED
                and j.lease_expires_at is not None
                and j.lease_expires_at < moment
            ]
            return _out(sorted(jobs, key=lambda j: j.lease_expires_at or moment))

    def requeue_expired(
        self, job_id: str, token: int, *, now: datetime, deadline: datetime | None = None
    ) -> JobRecord | None:
        with self._s.lock:
            job = self._s.jobs.get(job_id)
            if job is None or job.lease_token != token or job.state is not JobState.STARTED:
                return None
            if job.lease_expires_at is None or job.lease_expires_at >= as_utc(now):
                return None
            values = {"state": JobState.PENDING.value, "deadline": _utc_or_none(deadline)}
            return _transition(self._s, "requeue_expired", job_id, {**values, **_NO_LEASE}, NOT_TERMINAL)

    def complete_job(
        self, job_id: str, result: dict[str, Any], *, lease_token: int | None = None
    ) -> JobRecord:
        values, only_if = completion_values(result)
        with self._s.lock:
            return _transition(self._s, "complete_job", job_id, values, only_if, lease_token)

    def fail_job(self, job_id: str, error: str, *, lease_token: int | None = None) -> JobRecord:
        with self._s.lock:
            values = {"state": JobState.FAILURE.value, "error": error}
            return _transition(self._s, "fail_job", job_id, values, NOT_TERMINAL, lease_token)

    def release_job(self, job_id: str, *, attempt: int, deadline: datetime | None = None) -> JobRecord | None:
        with self._s.lock:
            job = self._s.jobs.get(job_id)
            if job is None or job.state is not JobState.STARTED or job.attempts != attempt:
                return None
            values = {
                "state": JobState.PENDING.value,
                "attempts": attempt - 1,
                "deadline": _utc_or_none(deadline),
                **_NO_LEASE,  # the interrupted delivery no longer holds it: the put-back message may run at once
            }
            return _transition(self._s, "release_job", job_id, values, (JobState.STARTED.value,))

    def requeue_job(self, job_id: str, *, deadline: datetime | None = None) -> JobRecord:
        with self._s.lock:
            values = {"state": JobState.PENDING.value, "deadline": _utc_or_none(deadline), **_NO_LEASE}
            return _transition(self._s, "requeue_job", job_id, values, NOT_TERMINAL)

    def list_jobs(
        self,
        *,
        state: JobState | str | None = None,
        kind: str | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> builtins.list[JobRecord]:
        wanted = None if state is None else JobState(state)
        with self._s.lock:
            jobs = sorted(self._s.jobs.values(), key=lambda j: (j.created_at, j.job_id), reverse=newest_first)
        jobs = [j for j in jobs if (wanted is None or j.state is wanted) and (kind is None or j.kind == kind)]
        return _out(jobs[:limit])

    def overdue_jobs(self, now: datetime | None = None) -> builtins.list[JobRecord]:
        moment = as_utc(now or utcnow())
        with self._s.lock:
            jobs = [
                j
                for j in self._s.jobs.values()
                if j.state.value in NOT_TERMINAL and j.deadline is not None and j.deadline < moment
            ]
            return _out(sorted(jobs, key=lambda j: j.deadline or moment))

    def _by_key(self, idempotency_key: str) -> JobRecord | None:
        return next((j for j in self._s.jobs.values() if j.idempotency_key == idempotency_key), None)


def _no_job(operation: str, job_id: str) -> StoreError:
    return StoreError(f"{operation}: no job with id {job_id!r}", job_id=job_id)


def _job_changes(values: dict[str, Any]) -> dict[str, Any]:
    """Column values as record fields: copies, with the state as a :class:`JobState`."""
    changes = copy.deepcopy(values)
    if "state" in changes:
        changes["state"] = JobState(changes["state"])
    return changes


#: The values that end a job's lease (a requeued job belongs to no process).
_NO_LEASE: dict[str, Any] = {"lease_owner": None, "lease_expires_at": None}


def _stale(job: JobRecord, lease_token: int | None) -> bool:
    """Whether a write fenced with ``lease_token`` comes from a delivery the job has moved past."""
    return lease_token is not None and job.lease_token != lease_token


def _transition(
    state: MemoryState,
    operation: str,
    job_id: str,
    values: dict[str, Any],
    only_if: tuple[str, ...],
    lease_token: int | None = None,
) -> JobRecord:
    """Apply ``values`` if the job is in one of ``only_if`` (and, with ``lease_token``, still
    holds that fencing token); the job as it is afterwards."""
    job = state.jobs.get(job_id)
    if job is None:
        raise _no_job(operation, job_id)
    if job.state.value in only_if and not _stale(job, lease_token):
        job = replace(job, updated_at=utcnow(), **_job_changes(values))
        state.jobs[job_id] = job
    return _out(job)


# ------------------------------------------------------------------------ API keys and markers
class MemoryApiKeyRepository:
    """API keys (:class:`cns.ports.ApiKeyRepository`)."""

    def __init__(self, state: MemoryState) -> None:
        self._s = state

    def add(self, key: ApiKeyRecord) -> ApiKeyRecord:
        with self._s.lock:
            if key.key_id in self._s.api_keys:
                raise StoreError(f"an API key with id {key.key_id!r} is already stored", key_id=key.key_id)
            stored = replace(key, created_at=as_utc(key.created_at), revoked_at=_utc_or_none(key.revoked_at))
            self._s.api_keys[key.key_id] = stored
            return stored

    def get(self, key_id: str) -> ApiKeyRecord | None:
        return self._s.api_keys.get(key_id)

    def list(self) -> builtins.list[ApiKeyRecord]:
        with self._s.lock:
            return sorted(self._s.api_keys.values(), key=lambda k: (k.created_at, k.key_id))

    def revoke(self, key_id: str, *, at: datetime | None = None) -> ApiKeyRecord | None:
        with self._s.lock:
            key = self._s.api_keys.get(key_id)
            if key is not None and key.revoked_at is None:
                key = self._s.api_keys[key_id] = replace(key, revoked_at=as_utc(at or utcnow()))
            return key


class MemoryMarkerRepository:
    """Markers (:class:`cns.ports.MarkerRepository`); they share a namespace with the change counter."""

    def __init__(self, state: MemoryState) -> None:
        self._s = state

    def read(self, name: str) -> int | None:
        with self._s.lock:
            return self._s.counter if name == SNO_SEQ else self._s.markers.get(name)

    def write(self, name: str, value: int) -> None:
        _not_the_counter(name)
        with self._s.lock:
            self._s.markers[name] = int(value)

    def take_turn(self, name: str, *, now: int, every: int) -> bool:
        _not_the_counter(name)
        with self._s.lock:
            last = self._s.markers.get(name)
            if last is not None and last > now - every:
                return False
            self._s.markers[name] = int(now)
            return True


def _not_the_counter(name: str) -> None:
    if name == SNO_SEQ:
        raise StoreError(f"{SNO_SEQ!r} is the store's change counter, not a marker", marker=name)


# --------------------------------------------------------------------------------- paged reads
class MemoryPagedReads:
    """Pages and aggregates (:class:`cns.ports.PagedReads`)."""

    def __init__(self, state: MemoryState) -> None:
        self._s = state

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
        query = query or SNOQuery()
        with self._s.lock:
            rows = [
                r
                for r in _ordered_snos(self._s)
                if (status is None or r.status == status)
                and (min_trust is None or (r.trust is not None and r.trust >= min_trust))
                and (source is None or r.source == source)
                and _matches(r, query)
            ]
            if query.newest_first:
                rows.reverse()
            return Page(_out([r.data for r in rows[offset : offset + limit]]), len(rows))

    def pairs_page(self, *, limit: int, offset: int, min_potential: float | None = None) -> Page[PairRecord]:
        with self._s.lock:
            pairs = [
                p for p in _ordered_pairs(self._s) if min_potential is None or p.potential >= min_potential
            ]
            return Page(_out(pairs[offset : offset + limit]), len(pairs))

    def syntheses_page(
        self, *, limit: int, offset: int, accepted: bool | None = None
    ) -> Page[SynthesisRecord]:
        with self._s.lock:
            rows = [
                SynthesisRecord(a, pair.sno_a, pair.sno_b)
                for pair_id, pair in self._s.pairs.items()
                for a in self._s.attempts.get(pair_id, [])
                if a.finished_at is not None and (accepted is None or a.accepted is accepted)
            ]
            rows.sort(key=lambda r: (r.attempt.pair_id, r.attempt.attempt_no))
            rows.sort(
                key=lambda r: r.attempt.finished_at or utcnow(), reverse=True
            )  # stable: ties keep order
            return Page(_out(rows[offset : offset + limit]), len(rows))

    def sno_heads(self, sno_ids: Sequence[str]) -> dict[str, SNOHead]:
        with self._s.lock:
            rows = [self._s.snos[i] for i in sno_ids if i in self._s.snos]
            return {
                r.sno_id: SNOHead(r.sno_id, r.source, str(r.data.get("central_hypothesis", ""))) for r in rows
            }

    def jobs_by_state(self) -> dict[tuple[str, str], int]:
        result: dict[tuple[str, str], int] = {}
        with self._s.lock:
            for job in self._s.jobs.values():
                key = (job.kind, job.state.value)
                result[key] = result.get(key, 0) + 1
        return result

    def trust_histogram(self, buckets: Sequence[float]) -> tuple[list[int], float, int]:
        with self._s.lock:
            trusts = [r.trust for r in self._s.snos.values() if r.trust is not None]
        return cumulative_histogram(trusts, buckets)

    def job_latency_histogram(self, buckets: Sequence[float], kind: str) -> tuple[list[int], float, int]:
        with self._s.lock:
            seconds = [
                (j.updated_at - j.created_at).total_seconds()
                for j in self._s.jobs.values()
                if j.kind == kind and j.state is JobState.SUCCESS
            ]
        return cumulative_histogram(seconds, buckets)

    def synthesis_outcomes(self) -> tuple[int, int]:
        with self._s.lock:
            finished = [
                a for attempts in self._s.attempts.values() for a in attempts if a.finished_at is not None
            ]
        return sum(a.accepted is True for a in finished), len(finished)

    def counts(self) -> dict[str, int]:
        with self._s.lock:
            result = {
                "documents": len(self._s.documents),
                "snos": len(self._s.snos),
                "tombstones": len(self._s.tombstones),
                "pairs": len(self._s.pairs),
                "synthesis_attempts": sum(len(a) for a in self._s.attempts.values()),
                "jobs": len(self._s.jobs),
            }
            for row in self._s.snos.values():
                result[f"snos_{row.status}"] = result.get(f"snos_{row.status}", 0) + 1
            for job in self._s.jobs.values():
                result[f"jobs_{job.state.value}"] = result.get(f"jobs_{job.state.value}", 0) + 1
        return result


# ------------------------------------------------------------------------------------ the store
class InMemoryStore:
    """Every repository on one :class:`MemoryState` (the in-memory twin of ``SQLStore``)."""

    def __init__(self, state: MemoryState | None = None) -> None:
        self.state = state if state is not None else MemoryState()
        self.snos = MemorySNORepository(self.state)
        self.documents = MemoryDocumentRepository(self.state)
        self.pairs = MemoryPairRepository(self.state)
        self.jobs = MemoryJobRepository(self.state)
        self.api_keys = MemoryApiKeyRepository(self.state)
        self.markers = MemoryMarkerRepository(self.state)
        self.reads = MemoryPagedReads(self.state)

    def __repr__(self) -> str:
        return f"InMemoryStore({len(self.snos)} SNOs, {len(self.state.documents)} documents)"


#: The SNO repository on a state of its own: what a workflow manager uses when it persists nothing.
InMemorySNOStore = MemorySNORepository
