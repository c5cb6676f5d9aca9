"""Markers (:class:`cns.ports.MarkerRepository`): named numbers the lifecycle keeps in the store.

For example how big the population was at the last re-score, so every process — the CLI, each
worker, beat — agrees on when the next one is due. They share the counter table with the SNO
change counter, whose name no marker may take.
"""

from __future__ import annotations

from sqlalchemy import select

from cns.errors import StoreError
from cns.store.rules import SNO_SEQ
from cns.store.sql._base import Database, insert_for
from cns.store.sql.schema import Counter


class SQLMarkerRepository:
    """Markers on the shared :class:`~cns.store.sql._base.Database`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def read(self, name: str) -> int | None:
        """The named number, or None if it was never written."""
        with self._db.reading("read_marker") as session:
            value = session.scalar(select(Counter.value).where(Counter.name == name))
            return None if value is None else int(value)

    def write(self, name: str, value: int) -> None:
        """Set the named number (insert or overwrite; the SNO change counter is not a marker)."""
        _not_the_counter(name)
        with self._db.writing("write_marker") as session:
            self._db.upsert(
                session,
                Counter,
                [{"name": name, "value": int(value)}],
                keys=["name"],
                update_columns=["value"],
            )

    def take_turn(self, name: str, *, now: int, every: int) -> bool:
        """Take the turn of a duty that many processes share: True for the one caller whose turn it is.

        The turn is due when the marker was last written ``every`` or more before ``now`` (or
        never); taking it writes ``now``. One statement decides — an INSERT whose conflict
        updates only a marker that is due — so of several processes asking at once exactly one
        gets the turn, and a look that finds it not due costs one round trip.
        """
        _not_the_counter(name)
        with self._db.writing("take_turn", single_statement=True) as session:
            stmt = (
                insert_for(session)(Counter)
                .values(name=name, value=now)
                .on_conflict_do_update(
                    index_elements=["name"], set_={"value": now}, where=Counter.value <= now - every
                )
                .returning(Counter.name)
            )
            return session.execute(stmt).one_or_none() is not None


def _not_the_counter(name: str) -> None:
    if name == SNO_SEQ:
        raise StoreError(f"{SNO_SEQ!r} is the store's change counter, not a marker", marker=name)
