"""The synthesis attempt log in the SQL store, so cooldowns hold across runs and workers (G12).

Implements :class:`cns.synthesis.attempts.AttemptLog` on top of the store's
``synthesis_attempts`` table: each attempt is a row with its outcome, reasons and
``cooldown_until``; a pair is ready again once the latest attempt's cooldown has passed.
``accepted`` is ``True`` / ``False`` for accepted / rejected syntheses and ``NULL`` for errors.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from cns.pairs.types import pair_key
from cns.store.sql import SQLStore, pair_id_for
from cns.synthesis.attempts import AttemptRecord, Outcome


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class SQLAttemptLog:
    """Attempt records of unordered pairs, stored next to the pairs they belong to."""

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
        outcome: Outcome = "error" if last.accepted is None else ("accepted" if last.accepted else "rejected")
        when = _aware(last.finished_at or last.started_at)
        reason = "; ".join(str(r) for r in last.reasons)
        return AttemptRecord(
            pair_key(id_a, id_b), last.attempt_no, when.timestamp(), outcome, reason, last.result_sno_id
        )

    def record(
        self, id_a: str, id_b: str, outcome: Outcome, *, reason: str = "", result_sno_id: str | None = None
    ) -> AttemptRecord:
        """Append an attempt; the pair row must already be stored (the manager records pairs first)."""
        now = self._clock()
        stored = self.store.record_attempt(
            pair_id_for(id_a, id_b),
            started_at=now,
            finished_at=now,
            accepted=None if outcome == "error" else outcome == "accepted",
            result_sno_id=result_sno_id,
            reasons=[reason] if reason else [],
            cooldown_until=now + timedelta(seconds=self.cooldown_seconds),
        )
        return AttemptRecord(
            pair_key(id_a, id_b), stored.attempt_no, now.timestamp(), outcome, reason, result_sno_id
        )

    def ready(self, id_a: str, id_b: str) -> bool:
        last = self.store.last_attempt(pair_id_for(id_a, id_b))
        if last is None:
            return True
        until = last.cooldown_until
        return until is None or _aware(until) <= self._clock()
