"""Synthesize a pair and store the result: the one place a synthesis gets its status and lineage.

The engine judges a candidate (accepted or not, with reasons); what a *stored* synthesis is —
``active`` or ``archived``, its ``parent_ids`` (the store's lineage rows come from them), its
``metadata.source`` and, when archived, its ``archive_reason`` — is decided here, for
``cns run``, ``cns synthesize``, ``cns loop`` and the ``synthesize`` job alike. The candidate is
stored before its attempt is recorded (:mod:`cns.workflow.lifecycle.attempts` says why); a job
writes both with its SUCCESS in one transaction fenced by its lease (:func:`synthesize_for_job`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from cns.core.records import JobCompletion, JobRecord
from cns.core.sno import SNOStatus, StructuredNarrativeObject
from cns.logging_setup import get_logger
from cns.pairs import ChiralPair
from cns.store.sql import SQLStore
from cns.synthesis import SynthesisResult
from cns.workflow.lifecycle.attempts import PendingAttempts, StoreAttemptLog

if TYPE_CHECKING:
    from cns.workflow.manager import CNSWorkflowManager

log = get_logger(__name__)

#: ``metadata.source`` of every synthesized SNO (documents carry their file name or URL there).
SYNTHESIS_SOURCE = "synthesis"
#: Longest ``archive_reason`` / fallback note kept on a synthesis (the full reasons are in ``rejection``).
MAX_REASON_CHARS = 2000


def finish_synthesis(
    sno: StructuredNarrativeObject,
    pair: ChiralPair,
    *,
    accepted: bool,
    reasons: list[str],
    llm_unavailable: str | None = None,
) -> None:
    """Give a judged candidate what a stored synthesis has: status, lineage, source, reasons."""
    sno.metadata["parent_ids"] = [pair.sno_a.sno_id, pair.sno_b.sno_id]
    sno.metadata["source"] = SYNTHESIS_SOURCE
    if llm_unavailable is not None:  # the up-front check switched the LLM off
        sno.metadata["synthesizer_fallback"] = f"offline (llm unavailable: {llm_unavailable})"[:1000]
    if accepted:
        sno.status = SNOStatus.ACTIVE
        sno.metadata.pop("archive_reason", None)
    else:
        sno.status = SNOStatus.ARCHIVED
        sno.metadata["archive_reason"] = "; ".join(reasons)[:MAX_REASON_CHARS]


def synthesize_and_store(
    manager: CNSWorkflowManager, pair: ChiralPair, *, force: bool = False
) -> SynthesisResult:
    """Synthesize ``pair`` against the live reference set, store the candidate, then record the attempt.

    A pair in cooldown is skipped (``force`` ignores the cooldown) and nothing is written. If
    storing the candidate fails, no attempt is recorded and the error propagates: the pair is
    tried again by the next run or delivery instead of sitting in cooldown with nothing stored.
    """
    return _synthesize(manager, pair, force=force, completes=None)[0]


def synthesize_for_job(
    manager: CNSWorkflowManager,
    pair: ChiralPair,
    *,
    force: bool,
    completes: Callable[[SynthesisResult], JobCompletion],
) -> tuple[SynthesisResult, JobRecord | None]:
    """:func:`synthesize_and_store` for a ``synthesize`` job: the candidate, its attempt and the
    job's SUCCESS (``completes``, fenced by its lease token) are written in one transaction.

    Returns the result and the job as the write left it — ``None`` when the store keeps no
    attempts (not SQL), for the caller to complete the job. A pair in cooldown writes only the
    SUCCESS, and a synthesis that failed its "error" attempt with it, under the same fence.
    A job claimed again while this delivery ran (its lease ran out) gets nothing from it: no
    second candidate, no second attempt (:meth:`~cns.store.sql.SQLStore.put_synthesis`).
    """
    return _synthesize(manager, pair, force=force, completes=completes)


def _synthesize(
    manager: CNSWorkflowManager,
    pair: ChiralPair,
    *,
    force: bool,
    completes: Callable[[SynthesisResult], JobCompletion] | None,
) -> tuple[SynthesisResult, JobRecord | None]:
    pending = PendingAttempts(manager.attempt_log)
    result = manager.synthesis_engine.synthesize(
        pair, manager.reference_index(), force=force, attempt_log=pending
    )
    candidate = None if result.sno is None or result.skipped else result.sno
    if candidate is not None:
        finish_synthesis(
            candidate,
            pair,
            accepted=result.accepted,
            reasons=list(result.reasons),
            llm_unavailable=manager.llm_unavailable,
        )
    done: JobRecord | None = None
    stored = True
    attempts = manager.attempt_log
    if (
        completes is not None
        and isinstance(manager.store, SQLStore)
        and isinstance(attempts, StoreAttemptLog)
    ):
        # candidate (if any), attempt (also an "error" one, which has no candidate) and SUCCESS
        completion = completes(result)
        done = manager.store.put_synthesis(candidate, pending.take_writes(attempts), completes=completion)
        stored = done is None or done.lease_token == completion.lease_token
    elif candidate is not None:
        manager.store.put(candidate)
    pending.flush()
    log.info(
        "synthesis.stored" if stored else "synthesis.fenced",
        sno_a=pair.sno_a.sno_id,
        sno_b=pair.sno_b.sno_id,
        accepted=result.accepted,
        skipped=result.skipped,
        sno_id=None if result.sno is None else result.sno.sno_id,
    )
    return result, done
