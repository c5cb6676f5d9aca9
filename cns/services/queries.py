"""The API's list pages and the Prometheus collector's aggregates, in the shapes they show.

The store's paged reads (:class:`cns.ports.PagedReads`, ``store.reads``) run the queries — one
page and its total, or one aggregate, per call, inside the store's error translation, so a
database outage is a :class:`~cns.errors.StoreError` (HTTP 503) here as on every other read.
This module only turns their records into the JSON the API returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cns.core.records import Page, SNOQuery, SynthesisRecord
from cns.ports import StoreRepositories
from cns.workflow.lifecycle.attempts import outcome_of

__all__ = [
    "Page",
    "job_latency_histogram",
    "jobs_by_state",
    "list_pairs",
    "list_snos",
    "list_syntheses",
    "synthesis_outcomes",
    "trust_histogram",
]


def list_snos(
    store: StoreRepositories,
    *,
    limit: int,
    offset: int,
    status: str | None = None,
    min_trust: float | None = None,
    source: str | None = None,
    query: SNOQuery | None = None,
) -> Page[dict[str, Any]]:
    """SNO JSON documents, oldest first (``query``: more filters, newest first), with the total."""
    return store.reads.snos_page(
        limit=limit, offset=offset, status=status, min_trust=min_trust, source=source, query=query
    )


def list_pairs(
    store: StoreRepositories, *, limit: int, offset: int, min_potential: float | None = None
) -> Page[dict[str, Any]]:
    """Stored chiral pairs, highest synthesis potential first, in the one pair shape
    (:func:`~cns.core.pair_json.pair_json`)."""
    page = store.reads.pairs_page(limit=limit, offset=offset, min_potential=min_potential)
    return Page([pair.to_dict() for pair in page.items], page.total)


def list_syntheses(
    store: StoreRepositories, *, limit: int, offset: int, accepted: bool | None = None
) -> Page[dict[str, Any]]:
    """Finished synthesis attempts (newest first) with their pair and resulting SNO id.

    ``accepted`` is true / false / null and ``outcome`` says the same in words: ``accepted``,
    ``rejected`` or ``error`` (the synthesis could not run); ``accepted=False`` lists rejections only.
    """
    page = store.reads.syntheses_page(limit=limit, offset=offset, accepted=accepted)
    return Page([synthesis_json(row) for row in page.items], page.total)


def synthesis_json(row: SynthesisRecord) -> dict[str, Any]:
    attempt = row.attempt
    return {
        "pair_id": attempt.pair_id,
        "attempt_no": attempt.attempt_no,
        "sno_a": row.sno_a,
        "sno_b": row.sno_b,
        "accepted": attempt.accepted,
        "outcome": outcome_of(attempt.accepted),
        "sno_id": attempt.result_sno_id,
        "reasons": list(attempt.reasons),
        "finished_at": attempt.finished_at.isoformat() if attempt.finished_at else None,
        "cooldown_until": attempt.cooldown_until.isoformat() if attempt.cooldown_until else None,
    }


def jobs_by_state(store: StoreRepositories) -> dict[tuple[str, str], int]:
    """(kind, state) → number of jobs."""
    return store.reads.jobs_by_state()


def trust_histogram(store: StoreRepositories, buckets: Sequence[float]) -> tuple[list[int], float, int]:
    """Cumulative bucket counts (``le`` semantics), sum and count of the SNOs' trust scores."""
    return store.reads.trust_histogram(buckets)


def job_latency_histogram(
    store: StoreRepositories, buckets: Sequence[float], kind: str
) -> tuple[list[int], float, int]:
    """End-to-end latency (created → finished) of successful jobs of ``kind``, in seconds."""
    return store.reads.job_latency_histogram(buckets, kind)


def synthesis_outcomes(store: StoreRepositories) -> tuple[int, int]:
    """(accepted, finished) synthesis attempts."""
    return store.reads.synthesis_outcomes()
