"""The synthesis attempt log: one meaning for every outcome, written after the SNO it names.

An attempt is ``accepted`` (the synthesis was admitted), ``rejected`` (a candidate, or none, that
the critics or the validator turned down) or ``error`` (the synthesis could not run: the model
or the store failed). The store keeps that as ``accepted`` true / false / NULL, and every
reader — the cooldown check, ``GET /syntheses``, the metrics — maps it back the same way
(:func:`outcome_of`).

Order: an attempt names the SNO it produced, so the SNO is stored first and the attempt second
(:class:`PendingAttempts` holds the record back until then). A crash between the two leaves a
stored SNO and no attempt: the pair is not in cooldown, the next run or the redelivered job
synthesizes it again (same id for an offline synthesis, an upsert), and nothing points at an
SNO that was never stored. A ``synthesize`` job goes one step further and writes the SNO, its
attempt and the job's SUCCESS in one transaction (:meth:`PendingAttempts.take_writes`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cns.config.settings import CNSConfig
from cns.core.ids import pair_id_for
from cns.core.records import AttemptWrite
from cns.pairs.types import pair_key
from cns.ports import SNOStore
from cns.store.sql import SQLStore
from cns.synthesis.attempts import AttemptLog, AttemptRecord, InMemoryAttemptLog, Outcome


def outcome_of(accepted: bool | None) -> Outcome:
    """The outcome a stored ``accepted`` value means (NULL: the attempt failed with an error)."""
    return "error" if accepted is None else ("accepted" if accepted else "rejected")


def accepted_of(outcome: Outcome) -> bool | None:
    """The stored form of an outcome (inverse of :func:`outcome_of`)."""
    return None if outcome == "error" else outcome == "accepted"


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class StoreAttemptLog:
    """Attempt records of unordered pairs in the store's ``synthesis_attempts`` table.

    Shared by every process that opens the store, so a cooldown holds across runs and workers.
    A pair must be recorded (:func:`~cns.workflow.lifecycle.pairs.record_pairs`) before its
    first attempt.
    """

    def __init__(
        self, store: SQLStore, cooldown_seconds: float, *, clock: Callable[[], datetime] = _now
    ) -> None:
        self.store = store
        self.cooldown_seconds = cooldown_seconds
        self._clock = clock

    def get(self, id_a: str, id_b: str) -> AttemptRecord | None:
        last = self.store.last_attempt(pair_id_for(id_a, id_b))
        if last is None:
            return None
        when = _aware(last.finished_at or last.started_at)
        reason = "; ".join(str(r) for r in last.reasons)
        return AttemptRecord(
            pair_key(id_a, id_b),
            last.attempt_no,
            when.timestamp(),
            outcome_of(last.accepted),
            reason,
            last.result_sno_id,
        )

    def write_of(
        self, id_a: str, id_b: str, outcome: Outcome, *, reason: str = "", result_sno_id: str | None = None
    ) -> AttemptWrite:
        """The row :meth:`record` appends, for a caller that writes it in its own transaction."""
        now = self._clock()
        return AttemptWrite(
            pair_id_for(id_a, id_b),
            started_at=now,
            finished_at=now,
            accepted=accepted_of(outcome),
            result_sno_id=result_sno_id,
            reasons=[reason] if reason else [],
            cooldown_until=now + timedelta(seconds=self.cooldown_seconds),
        )

    def record(
        self, id_a: str, id_b: str, outcome: Outcome, *, reason: str = "", result_sno_id: str | None = None
    ) -> AttemptRecord:
        write = self.write_of(id_a, id_b, outcome, reason=reason, result_sno_id=result_sno_id)
        stored = self.store.record_attempt(
            write.pair_id,
            started_at=write.started_at,
            finished_at=write.finished_at,
            accepted=write.accepted,
            result_sno_id=write.result_sno_id,
            reasons=write.reasons,
            cooldown_until=write.cooldown_until,
        )
        return AttemptRecord(
            pair_key(id_a, id_b),
            stored.attempt_no,
            write.started_at.timestamp(),
            outcome,
            reason,
            result_sno_id,
        )

    def ready(self, id_a: str, id_b: str) -> bool:
        last = self.store.last_attempt(pair_id_for(id_a, id_b))
        if last is None:
            return True
        until = last.cooldown_until
        return until is None or _aware(until) <= self._clock()


def attempt_log_for(store: SNOStore, config: CNSConfig) -> AttemptLog:
    """The store's attempt log when it keeps pairs (SQL), else one that lives in this process."""
    cooldown = config.population.synthesis_cooldown_seconds
    if isinstance(store, SQLStore):
        return StoreAttemptLog(store, cooldown)
    return InMemoryAttemptLog(cooldown)


@dataclass(frozen=True)
class _Held:
    id_a: str
    id_b: str
    outcome: Outcome
    reason: str
    result_sno_id: str | None


class PendingAttempts:
    """An attempt log that reads through to ``log`` and holds records back until :meth:`flush`.

    The synthesis engine records the attempt as soon as it has judged the candidate; the
    lifecycle passes this log instead, stores the candidate, and only then flushes.
    """

    def __init__(self, log: AttemptLog) -> None:
        self.log = log
        self.cooldown_seconds = log.cooldown_seconds
        self.held: list[_Held] = []

    def get(self, id_a: str, id_b: str) -> AttemptRecord | None:
        return self.log.get(id_a, id_b)

    def ready(self, id_a: str, id_b: str) -> bool:
        return self.log.ready(id_a, id_b)

    def record(
        self, id_a: str, id_b: str, outcome: Outcome, *, reason: str = "", result_sno_id: str | None = None
    ) -> AttemptRecord:
        self.held.append(_Held(id_a, id_b, outcome, reason, result_sno_id))
        previous = self.log.get(id_a, id_b)
        count = 1 if previous is None else previous.attempts + 1
        return AttemptRecord(pair_key(id_a, id_b), count, _now().timestamp(), outcome, reason, result_sno_id)

    def take_writes(self, log: StoreAttemptLog) -> list[AttemptWrite]:
        """The held records as rows of ``log``'s store, for a caller that writes them together with
        the SNO they name (:meth:`~cns.store.sql.SQLStore.put_synthesis`); nothing stays held."""
        writes = [
            log.write_of(h.id_a, h.id_b, h.outcome, reason=h.reason, result_sno_id=h.result_sno_id)
            for h in self.held
        ]
        self.held.clear()
        return writes

    def flush(self) -> list[AttemptRecord]:
        """Write the held records to the underlying log, in order; returns what it wrote."""
        written = [
            self.log.record(h.id_a, h.id_b, h.outcome, reason=h.reason, result_sno_id=h.result_sno_id)
            for h in self.held
        ]
        self.held.clear()
        return written
