"""The pair repository (:class:`cns.ports.PairRepository`): chiral pairs and synthesis attempts.

A pair is stored under the stable id of its unordered SNO ids, so finding it again in the next
cycle updates the same row instead of adding a duplicate; attempts are numbered per pair and
carry a ``cooldown_until`` that the synthesis loop checks before trying the pair again (a pair is
never re-synthesised blindly: docs/design-notes.md#loop-hygiene).
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from cns.core.records import (
    AttemptRecord,
    AttemptWrite,
    JobCompletion,
    JobRecord,
    PairRecord,
    pair_id_for,
    utcnow,
)
from cns.core.sno import StructuredNarrativeObject
from cns.errors import StoreError
from cns.store.rules import ordered_pair, unstored_pair_snos
from cns.store.sql._base import Database
from cns.store.sql._job_rows import LeaseSuperseded, complete_in, job_owner_in
from cns.store.sql._snos import put_sno_in
from cns.store.sql.schema import AttemptRow, PairRow, SNORow

#: What finding a stored pair again updates (``found_at`` keeps the first finding).
PAIR_METRICS = (
    "chirality",
    "entanglement",
    "potential",
    "shared",
    "conflicts",
    "opposition",
    "source",
    "evidence_matches",
)


def record_attempt_in(session: Session, write: AttemptWrite) -> AttemptRecord:
    """Append ``write`` as attempt ``last + 1`` of its pair, inside the caller's transaction."""
    # lock the pair row so two workers cannot both take the same attempt number
    pair = session.scalar(select(PairRow).where(PairRow.pair_id == write.pair_id).with_for_update())
    if pair is None:
        raise StoreError(f"cannot record an attempt: no stored pair {write.pair_id!r}", pair_id=write.pair_id)
    last = session.scalar(select(func.max(AttemptRow.attempt_no)).where(AttemptRow.pair_id == write.pair_id))
    row = AttemptRow(
        pair_id=write.pair_id,
        attempt_no=int(last or 0) + 1,
        started_at=write.started_at,
        finished_at=write.finished_at,
        accepted=write.accepted,
        result_sno_id=write.result_sno_id,
        reasons=builtins.list(write.reasons),
        cooldown_until=write.cooldown_until,
    )
    session.add(row)
    session.flush()
    return attempt_of(row)


class SQLPairRepository:
    """Pairs and attempts on the shared :class:`~cns.store.sql._base.Database`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def record_pair(self, pair: PairRecord) -> PairRecord:
        """Insert or update ``pair`` (both SNOs must be stored); returns it with ``sno_a < sno_b``."""
        low, high = ordered_pair(pair)
        row = {
            "pair_id": pair_id_for(low, high),
            "sno_a": low,
            "sno_b": high,
            "chirality": float(pair.chirality),
            "entanglement": float(pair.entanglement),
            "potential": float(pair.potential),
            "shared": builtins.list(pair.shared),
            "conflicts": builtins.list(pair.conflicts),
            "found_at": pair.found_at or utcnow(),
            "opposition": float(pair.opposition),
            "source": pair.source,
            "evidence_matches": builtins.list(pair.evidence_matches),
        }
        with self._db.writing("record_pair") as session:
            missing = {low, high} - set(
                session.scalars(select(SNORow.sno_id).where(SNORow.sno_id.in_([low, high])))
            )
            if missing:
                raise unstored_pair_snos(missing)
            self._db.upsert(session, PairRow, [row], keys=["pair_id"], update_columns=PAIR_METRICS)
            stored = session.get(PairRow, row["pair_id"], populate_existing=True)
            assert stored is not None
            return pair_record_of(stored)

    def get_pair(self, pair_id: str) -> PairRecord | None:
        with self._db.reading("get_pair") as session:
            row = session.get(PairRow, pair_id)
            return None if row is None else pair_record_of(row)

    def list_pairs(
        self, *, min_potential: float | None = None, sno_id: str | None = None, limit: int | None = None
    ) -> builtins.list[PairRecord]:
        """Stored pairs, highest synthesis potential first."""
        stmt = select(PairRow).order_by(PairRow.potential.desc(), PairRow.pair_id)
        if min_potential is not None:
            stmt = stmt.where(PairRow.potential >= min_potential)
        if sno_id is not None:
            stmt = stmt.where(or_(PairRow.sno_a == sno_id, PairRow.sno_b == sno_id))
        if limit is not None:
            stmt = stmt.limit(limit)
        with self._db.reading("list_pairs") as session:
            return [pair_record_of(row) for row in session.scalars(stmt)]

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
        """Append attempt number ``last + 1`` for ``pair_id`` (the pair must be stored)."""
        write = AttemptWrite(
            pair_id,
            started_at or utcnow(),
            finished_at,
            accepted,
            result_sno_id,
            builtins.list(reasons),
            cooldown_until,
        )
        with self._db.writing("record_attempt") as session:
            return record_attempt_in(session, write)

    def put_synthesis(
        self,
        sno: StructuredNarrativeObject | None,
        attempts: Sequence[AttemptWrite],
        *,
        completes: JobCompletion | None = None,
    ) -> JobRecord | None:
        """Store a synthesized SNO (None: there is none, e.g. an attempt that failed with an error),
        then its attempts and, with ``completes``, the job's SUCCESS — one transaction, so a
        synthesis job's candidate, attempt and outcome land together.

        Why one transaction: a worker that lost its lease while it synthesized (frozen, paused)
        and wakes after another worker took the job over must not add a second candidate and a
        second attempt for the same pair (the newer, possibly rejected, attempt would hide the
        accepted synthesis as the pair's latest). With a stale ``completes.lease_token`` nothing
        is written and the job is returned as it is, with the newer token.
        """
        token = None if completes is None else completes.lease_token
        try:
            with self._db.writing("put_synthesis") as session:
                if completes is not None:
                    job_owner_in(session, completes.job_id, lease_token=token)  # the fence, row locked
                if sno is not None:
                    put_sno_in(session, sno, None, self._db.next_seq(session))
                for write in attempts:
                    record_attempt_in(session, write)
                return None if completes is None else complete_in(session, "put_synthesis", completes)
        except LeaseSuperseded as stale:
            return stale.job

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
        """Close an attempt recorded when it started (so a crash leaves a visible open attempt)."""
        with self._db.writing("finish_attempt") as session:
            row = session.get(AttemptRow, (pair_id, attempt_no))
            if row is None:
                raise StoreError(
                    f"no attempt {attempt_no} for pair {pair_id!r}", pair_id=pair_id, attempt_no=attempt_no
                )
            row.finished_at = finished_at or utcnow()
            row.accepted = accepted
            row.result_sno_id = result_sno_id
            row.reasons = builtins.list(reasons)
            row.cooldown_until = cooldown_until
            session.flush()
            return attempt_of(row)

    def last_attempt(self, pair_id: str) -> AttemptRecord | None:
        stmt = select(AttemptRow).where(AttemptRow.pair_id == pair_id).order_by(AttemptRow.attempt_no.desc())
        with self._db.reading("last_attempt") as session:
            row = session.scalars(stmt.limit(1)).first()
            return None if row is None else attempt_of(row)

    def list_attempts(self, pair_id: str) -> builtins.list[AttemptRecord]:
        stmt = select(AttemptRow).where(AttemptRow.pair_id == pair_id).order_by(AttemptRow.attempt_no)
        with self._db.reading("list_attempts") as session:
            return [attempt_of(row) for row in session.scalars(stmt)]


def pair_record_of(row: PairRow) -> PairRecord:
    """The value object of a ``pairs`` row."""
    return PairRecord(
        sno_a=row.sno_a,
        sno_b=row.sno_b,
        chirality=row.chirality,
        entanglement=row.entanglement,
        potential=row.potential,
        shared=builtins.list(row.shared or []),
        conflicts=builtins.list(row.conflicts or []),
        found_at=row.found_at,
        opposition=float(row.opposition or 0.0),
        source=row.source or "evidence",
        evidence_matches=builtins.list(row.evidence_matches or []),
    )


def attempt_of(row: AttemptRow) -> AttemptRecord:
    return AttemptRecord(
        pair_id=row.pair_id,
        attempt_no=row.attempt_no,
        started_at=row.started_at,
        finished_at=row.finished_at,
        accepted=row.accepted,
        result_sno_id=row.result_sno_id,
        reasons=builtins.list(row.reasons or []),
        cooldown_until=row.cooldown_until,
    )
