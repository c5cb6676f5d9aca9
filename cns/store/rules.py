"""The rules every store implementation applies the same way (in memory, SQLite, PostgreSQL).

Each repository has a SQL implementation and an in-memory reference, and the shared contract
tests hold them to the same behaviour. What is decided rather than stored — a document's id,
an SNO's parents, which evaluations may be stored, what a deleted document leaves in its jobs —
is decided here once, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from cns.core.ids import normalize_text, sha256_hex
from cns.core.records import JobState, PairRecord
from cns.core.sno import StructuredNarrativeObject
from cns.errors import JobError, StoreError

#: The store's change counter. Markers share its namespace, so no marker may take this name.
SNO_SEQ = "sno_seq"
#: Metadata keys a synthesis uses to name its parents, and the generic list form.
PARENT_KEYS = ("source_sno_a", "source_sno_b")
PARENT_LIST_KEY = "parent_ids"
#: Job states a job can still leave (a finished job is SUCCESS or FAILURE).
NOT_TERMINAL = (JobState.PENDING.value, JobState.STARTED.value)
#: The error of an unfinished ingest job whose document was deleted.
DELETED_BEFORE_INGESTION = "document deleted before ingestion finished"


def document_id_for(text: str) -> str:
    """The stable id of a document: SHA-256 of its normalised text."""
    return sha256_hex(normalize_text(text))


def parent_ids(sno: StructuredNarrativeObject) -> set[str]:
    """The SNOs ``sno`` was synthesised from, as its metadata names them."""
    found = {str(sno.metadata[k]) for k in PARENT_KEYS if sno.metadata.get(k)}
    listed = sno.metadata.get(PARENT_LIST_KEY)
    if isinstance(listed, list | tuple):
        found.update(str(p) for p in listed if p)
    found.discard(sno.sno_id)
    return found


def str_or_none(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def sno_document_id(sno: StructuredNarrativeObject, document_id: str | None) -> str | None:
    """The stored document an SNO refers to: the explicit id, else ``metadata["document_id"]``."""
    return document_id or str_or_none(sno.metadata.get("document_id"))


def sno_source(sno: StructuredNarrativeObject, document_source: str | None) -> str | None:
    """An SNO's source: its own ``metadata["source"]``, else its document's source."""
    return str_or_none(sno.metadata.get("source")) or document_source


def missing_document(sno: StructuredNarrativeObject, document_id: str) -> StoreError:
    return StoreError(
        f"SNO {sno.sno_id} refers to document {document_id!r}, which is not stored; "
        "call put_document() first",
        sno_id=sno.sno_id,
        document_id=document_id,
    )


def check_evaluation(sno: StructuredNarrativeObject) -> None:
    """Refuse an evaluation whose critic results lack a score (the report and CLI read them)."""
    results = (sno.evaluation or {}).get("critic_results") or {}
    for name, result in sorted(results.items()):
        if not isinstance(result, dict) or "score" not in result:
            raise StoreError(
                f"SNO {sno.sno_id}: evaluation.critic_results[{name!r}] has no score; re-evaluate the SNO",
                sno_id=sno.sno_id,
                critic=name,
            )


def ordered_pair(pair: PairRecord) -> tuple[str, str]:
    """The pair's SNO ids in stored order (``sno_a < sno_b``); a pair of one SNO is refused."""
    if pair.sno_a == pair.sno_b:
        raise StoreError(f"a pair needs two different SNOs, got {pair.sno_a!r} twice", sno_id=pair.sno_a)
    low, high = sorted((pair.sno_a, pair.sno_b))
    return low, high


def unstored_pair_snos(missing: set[str]) -> StoreError:
    return StoreError(f"cannot record pair: SNO(s) {sorted(missing)} are not stored", sno_ids=sorted(missing))


def forgotten_job(document_id: str, state: str) -> dict[str, Any]:
    """The new values of an ingest job whose document was deleted.

    The text leaves the payload; an unfinished job fails (its worker must not store the
    document again), a finished one keeps its state and says the document is gone.
    """
    values: dict[str, Any] = {"payload": {"document_id": document_id, "deleted": True}}
    if state in NOT_TERMINAL:
        values.update(state=JobState.FAILURE.value, error=DELETED_BEFORE_INGESTION)
    else:
        values["result"] = {"deleted": True}
    return values


def completion_values(result: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The values of a SUCCESS transition and the states it may leave (not SUCCESS itself)."""
    values = {"state": JobState.SUCCESS.value, "result": dict(result), "error": None}
    return values, (*NOT_TERMINAL, JobState.FAILURE.value)


def lease_is_live(owner: str | None, expires_at: datetime | None, now: datetime) -> bool:
    """Whether a running job's lease still belongs to a process (``owner``) that renews it.

    A released lease (no owner) never blocks a claim, even before its reservation runs out: it is
    what a delivery that hands the job to its own retry leaves behind.
    """
    return owner is not None and expires_at is not None and expires_at >= now


def lease_expiry(now: datetime, seconds: float) -> datetime:
    return now + timedelta(seconds=seconds)


def owner_of_payload(job_id: str, payload: Any) -> str | None:
    """The API key that submitted a job (``submitted_by``); a job whose document was deleted
    refuses to store it again."""
    if isinstance(payload, dict) and payload.get("deleted"):
        raise JobError(f"job {job_id}: its document was deleted before the ingestion finished", job_id=job_id)
    owner = payload.get("submitted_by") if isinstance(payload, dict) else None
    return str(owner) if owner else None


def cumulative_histogram(values: Sequence[float], buckets: Sequence[float]) -> tuple[list[int], float, int]:
    """Cumulative bucket counts (``le`` semantics), sum and count of ``values``."""
    return [sum(v <= b for v in values) for b in buckets], float(sum(values)), len(values)
