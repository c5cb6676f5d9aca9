"""Pair search and synthesis as background jobs over the shared store (spec §8.2, G12, G14).

``find_and_schedule`` is what celery beat runs: search the store's active population for chiral
pairs, record them (upsert by the pair's stable id) and submit one ``synthesize`` job per pair
that is not in cooldown. The job's idempotency key includes the pair's attempt count, so while a
synthesis of a pair is queued or running, later sweeps find the same key and add nothing.

``synthesize_job_handler`` runs one synthesis. Cooldowns come from the attempts table (shared by
every worker), and the attempt is written *after* the synthesised SNO is stored: a crash in
between leaves no attempt, so the redelivered job synthesises again instead of being skipped.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from cns.config.settings import CNSConfig
from cns.core.sno import SNOStatus
from cns.errors import JobError
from cns.logging_setup import get_logger
from cns.pairs import ChiralPair, ConflictPoint, find_chiral_pairs
from cns.services.jobs import SYNTHESIZE, JobHandler, Submission, submit_job
from cns.services.publisher import Publisher
from cns.services.shared_state import SharedStateManager
from cns.store.sql import JobRecord, PairRecord, SQLStore, pair_id_for
from cns.store.sql.schema import utcnow
from cns.synthesis import AttemptRecord, SynthesisEngine
from cns.synthesis.attempts import Outcome
from cns.worker.celery_app import SYNTHESIZE_PAIR

log = get_logger(__name__)


class StoreAttemptLog:
    """The engine's :class:`~cns.synthesis.AttemptLog` over the store's attempts table.

    ``record`` only buffers; :meth:`flush` writes the attempt once the result is stored.
    """

    def __init__(self, store: SQLStore, cooldown_seconds: float) -> None:
        self.store = store
        self.cooldown_seconds = cooldown_seconds
        self.pending: list[tuple[str, Outcome, str, str | None]] = []

    def get(self, id_a: str, id_b: str) -> AttemptRecord | None:
        last = self.store.last_attempt(pair_id_for(id_a, id_b))
        if last is None:
            return None
        outcome: Outcome = "accepted" if last.accepted else "rejected"
        stamp = (last.finished_at or last.started_at).timestamp()
        low, high = sorted((id_a, id_b))
        reason = str(last.reasons[0]) if last.reasons else ""
        return AttemptRecord((low, high), last.attempt_no, stamp, outcome, reason, last.result_sno_id)

    def ready(self, id_a: str, id_b: str) -> bool:
        last = self.store.last_attempt(pair_id_for(id_a, id_b))
        return last is None or last.cooldown_until is None or last.cooldown_until <= utcnow()

    def record(
        self, id_a: str, id_b: str, outcome: Outcome, *, reason: str = "", result_sno_id: str | None = None
    ) -> AttemptRecord:
        self.pending.append((pair_id_for(id_a, id_b), outcome, reason, result_sno_id))
        low, high = sorted((id_a, id_b))
        return AttemptRecord((low, high), 0, datetime.now(UTC).timestamp(), outcome, reason, result_sno_id)

    def flush(self) -> None:
        now = utcnow()
        for pair_id, outcome, reason, result_sno_id in self.pending:
            self.store.record_attempt(
                pair_id,
                started_at=now,
                finished_at=now,
                accepted=outcome == "accepted",
                result_sno_id=result_sno_id,
                reasons=[reason] if reason else [],
                cooldown_until=now + timedelta(seconds=self.cooldown_seconds),
            )
        self.pending.clear()


def record_pairs(store: SQLStore, pairs: list[ChiralPair]) -> list[PairRecord]:
    return [
        store.record_pair(
            PairRecord(
                p.sno_a.sno_id,
                p.sno_b.sno_id,
                p.chirality,
                p.entanglement,
                p.potential,
                shared=sorted(p.shared_evidence),
                conflicts=[c.to_dict() for c in p.conflict_points],
            )
        )
        for p in pairs
    ]


def submit_synthesis(
    *, store: SQLStore, publisher: Publisher, config: CNSConfig, pair_id: str, force: bool = False
) -> Submission:
    """Submit a ``synthesize`` job for a stored pair (deduplicated per pair and attempt number)."""
    if store.get_pair(pair_id) is None:
        raise JobError(f"no stored pair with id {pair_id!r}", pair_id=pair_id)
    last = store.last_attempt(pair_id)
    key = f"{pair_id}:{0 if last is None else last.attempt_no}:{'force' if force else 'auto'}"
    return submit_job(
        store=store,
        publisher=publisher,
        config=config,
        kind=SYNTHESIZE,
        task_name=SYNTHESIZE_PAIR,
        payload={"pair_id": pair_id, "force": force},
        idempotency_key=key,
    )


def find_and_schedule(
    *, store: SQLStore, publisher: Publisher, config: CNSConfig, manager: SharedStateManager
) -> dict[str, Any]:
    """Search, record and schedule; return counts for the task log."""
    pairs = find_chiral_pairs(store, config, nli=manager.nli, embedder=manager.embedder)
    records = record_pairs(store, pairs)
    attempts = StoreAttemptLog(store, config.population.synthesis_cooldown_seconds)
    scheduled = 0
    for record in records:
        if attempts.ready(record.sno_a, record.sno_b):
            submission = submit_synthesis(
                store=store, publisher=publisher, config=config, pair_id=record.pair_id
            )
            scheduled += int(submission.created)
    log.info("find_pairs.complete", pairs=len(records), scheduled=scheduled)
    return {"pairs": len(records), "scheduled": scheduled}


def chiral_pair_from_record(store: SQLStore, record: PairRecord) -> ChiralPair:
    conflicts = [ConflictPoint(**c) for c in record.conflicts if isinstance(c, dict)]
    return ChiralPair(
        store.get(record.sno_a),
        store.get(record.sno_b),
        record.chirality,
        record.entanglement,
        record.potential,
        frozenset(str(k) for k in record.shared),
        conflicts,
    )


def synthesize_job_handler(store: SQLStore, manager: SharedStateManager, config: CNSConfig) -> JobHandler:
    def run(job: JobRecord) -> dict[str, Any]:
        pair_id = str(job.payload["pair_id"])
        record = store.get_pair(pair_id)
        if record is None:
            raise JobError(
                f"pair {pair_id!r} no longer exists (its documents were deleted?)", pair_id=pair_id
            )
        pair = chiral_pair_from_record(store, record)
        attempts = StoreAttemptLog(store, config.population.synthesis_cooldown_seconds)
        engine = SynthesisEngine(
            config, evaluator=manager.evaluator, llm=manager.llm, nli=manager.nli, attempt_log=attempts
        )
        result = engine.synthesize(
            pair, population=manager.population(), force=bool(job.payload.get("force", False))
        )
        if result.sno is not None and not result.skipped:
            sno = result.sno
            sno.status = SNOStatus.ACTIVE if result.accepted else SNOStatus.ARCHIVED
            sno.metadata["parent_ids"] = [pair.sno_a.sno_id, pair.sno_b.sno_id]  # store lineage
            store.put(sno)
        attempts.flush()
        log.info("synthesis.job_done", pair_id=pair_id, accepted=result.accepted, skipped=result.skipped)
        return {"pair_id": pair_id, **result.to_dict()}

    return run
