"""Markers (:class:`cns.ports.MarkerRepository`): named numbers the lifecycle keeps in the store.

For example how big the population was at the last re-score, so every process — the CLI, each
worker, beat — agrees on when the next one is due. They share the counter table with the SNO
change counter, whose name no marker may take.
"""

from __future__ import annotations

from sqlalchemy import select

from cns.errors import StoreError
from cns.store.rules import SNO_SEQ
from cns.store.sql._base import Database
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
        if name == SNO_SEQ:
            raise StoreError(f"{SNO_SEQ!r} is the store's change counter, not a marker", marker=name)
        with self._db.writing("write_marker") as session:
            self._db.upsert(
                session,
                Counter,
                [{"name": name, "value": int(value)}],
                keys=["name"],
                update_columns=["value"],
            )
