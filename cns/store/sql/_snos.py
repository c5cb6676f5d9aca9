"""The SNO repository (:class:`cns.ports.SNORepository`): SNO rows, lineage, tombstones, change feed.

``put`` writes the SNO row and its lineage (the parents a synthesis names) in one transaction.
Every write and every delete takes the next number of the store's change counter, so a vector
index that follows the store reads only what changed since its last sync.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Float,
    LargeBinary,
    Select,
    String,
    cast,
    delete,
    func,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from cns.core.records import ChangePage, SNOChange, embedding_from_bytes, embedding_to_bytes, utcnow
from cns.core.sno import StructuredNarrativeObject
from cns.errors import SNONotFoundError
from cns.store.rules import check_evaluation, missing_document, parent_ids, sno_document_id, sno_source
from cns.store.sql._base import Database, chunks
from cns.store.sql.schema import Document, Lineage, SNORow, SNOTombstone


class SQLSNORepository:
    """SNOs on the shared :class:`~cns.store.sql._base.Database`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def put(self, sno: StructuredNarrativeObject, *, document_id: str | None = None) -> None:
        """Insert or replace ``sno`` (upsert) with its lineage.

        ``document_id`` (or ``sno.metadata["document_id"]``) links the SNO to a stored document;
        it must have been stored with ``put_document`` first.
        """
        with self._db.writing("put") as session:
            put_sno_in(session, sno, document_id, self._db.next_seq(session))

    def put_many(self, snos: Iterable[StructuredNarrativeObject]) -> int:
        """Store all of ``snos`` in one transaction: either every one is stored or none is."""
        items = list(snos)
        if not items:
            return 0
        with self._db.writing("put_many") as session:
            first = self._db.next_seq(session, len(items))
            for offset, sno in enumerate(items):
                put_sno_in(session, sno, None, first + offset)
        return len(items)

    def get(self, sno_id: str) -> StructuredNarrativeObject:
        with self._db.reading("get") as session:
            data = session.scalar(select(SNORow.data).where(SNORow.sno_id == sno_id))
        if data is None:
            raise SNONotFoundError.for_id(sno_id)
        return StructuredNarrativeObject.from_dict(data)

    def contains(self, sno_id: str) -> bool:
        with self._db.reading("contains") as session:
            return session.scalar(select(SNORow.seq).where(SNORow.sno_id == sno_id)) is not None

    def delete(self, sno_id: str) -> bool:
        """Remove one SNO and the rows that depend on it (its lineage, its pairs and their attempts)."""
        with self._db.writing("delete") as session:
            return delete_snos_in(self._db, session, [sno_id]) == 1

    def list(
        self, *, status: str | None = None, min_trust: float | None = None
    ) -> builtins.list[StructuredNarrativeObject]:
        stmt = select(SNORow.data).order_by(SNORow.created_at, SNORow.sno_id)
        if status is not None:
            stmt = stmt.where(SNORow.status == str(status))
        if min_trust is not None:
            stmt = stmt.where(SNORow.trust >= min_trust)
        with self._db.reading("list") as session:
            rows = session.scalars(stmt).all()
        return [StructuredNarrativeObject.from_dict(data) for data in rows]

    def __len__(self) -> int:
        with self._db.reading("count") as session:
            return int(session.scalar(select(func.count()).select_from(SNORow)) or 0)

    def count_document_snos(self) -> int:
        """How many stored SNOs were extracted from a document (syntheses are not)."""
        stmt = select(func.count()).select_from(SNORow).where(SNORow.document_id.is_not(None))
        with self._db.reading("count_document_snos") as session:
            return int(session.scalar(stmt) or 0)

    def find_by_content_hash(self, content_hash: str) -> builtins.list[str]:
        """Ids of SNOs saying the same thing on the same evidence (de-duplication)."""
        with self._db.reading("find_by_content_hash") as session:
            stmt = select(SNORow.sno_id).where(SNORow.content_hash == content_hash).order_by(SNORow.sno_id)
            return builtins.list(session.scalars(stmt).all())

    def current_seq(self) -> int:
        """The highest sequence number handed out so far (0 for an empty store)."""
        with self._db.reading("current_seq") as session:
            return self._db.change_counter(session)

    def snos_since(self, seq: int, *, limit: int | None = None) -> builtins.list[SNOChange]:
        """Changes with a sequence number above ``seq``, oldest first; deletions included.

        Each SNO appears at most once, in its latest state (a re-stored SNO loses its tombstone).
        """
        return self.changes_since(seq, limit=limit).changes

    def changes_since(self, seq: int, *, limit: int | None = None) -> ChangePage:
        """The change feed after ``seq`` (at most ``limit`` entries) and the seq it brings a reader to.

        A worker calls this before every task, so it costs one primary-key read of the change
        counter when nothing changed, and one more query (stored and deleted SNOs together, in
        seq order) when something did. Only changes up to the counter read first are returned:
        every writer holds the counter's row lock until it commits, so every change numbered up
        to a committed counter value is committed too, and a reader at ``through`` misses
        nothing. The feed query may see later commits (higher numbers, or an SNO in a later state,
        which the next read reports again; applying changes is idempotent).
        """
        check_limit(limit)
        with self._db.reading("changes_since") as session:
            counter = self._db.change_counter(session)
            if counter <= seq:
                return ChangePage([], seq, True)
            rows = session.execute(_feed(seq, counter, limit)).all()
        changes = [
            SNOChange(int(s), i, None if dead else embedding_from_bytes(e), bool(dead), st, t)
            for s, i, e, st, t, dead in rows
        ]
        return change_page(changes, counter, limit)


def check_limit(limit: int | None) -> None:
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")


def change_page(changes: list[SNOChange], counter: int, limit: int | None) -> ChangePage:
    """The page of ``changes``: a full page resumes at its last change, else at the counter."""
    if limit is not None and len(changes) == limit:
        return ChangePage(changes, changes[-1].seq, changes[-1].seq >= counter)
    return ChangePage(changes, counter, True)


def put_sno_in(
    session: Session,
    sno: StructuredNarrativeObject,
    document_id: str | None,
    seq: int,
    *,
    known_document: tuple[str, str | None] | None = None,
) -> None:
    """Write ``sno``'s rows in ``session``; ``known_document`` = (id, source) of a document
    this transaction has just stored, which then needs no lookup.

    Ingestion writes a new SNO, whose lineage cannot exist yet (it references the SNO row, ON
    DELETE CASCADE): only a re-stored SNO has old rows to delete. That and the known document
    save round trips per new SNO.
    """
    doc_id = sno_document_id(sno, document_id)
    doc_source = None
    if known_document is not None and doc_id == known_document[0]:
        doc_source = known_document[1]
    elif doc_id is not None:
        document = session.get(Document, doc_id)
        if document is None:
            raise missing_document(sno, doc_id)
        doc_source = document.source
    check_evaluation(sno)
    values: dict[str, Any] = {
        "document_id": doc_id,
        "content_hash": sno.content_hash(),
        "data": sno.to_dict(),
        "embedding": embedding_to_bytes(sno.hypothesis_embedding),
        "trust": sno.trust_score,
        "status": str(sno.status),
        "source": sno_source(sno, doc_source),
        "created_at": sno.created_at,
        "seq": seq,
    }
    row = session.get(SNORow, sno.sno_id)
    if row is None:
        session.add(SNORow(sno_id=sno.sno_id, **values))
    else:
        for name, value in values.items():
            setattr(row, name, value)
    session.flush()
    sid = sno.sno_id
    session.execute(delete(SNOTombstone).where(SNOTombstone.sno_id == sid))
    if row is not None:
        session.execute(delete(Lineage).where(Lineage.child_id == sid))
    session.add_all(Lineage(child_id=sid, parent_id=p) for p in sorted(parent_ids(sno)))
    session.flush()


def delete_snos_in(db: Database, session: Session, sno_ids: Iterable[str]) -> int:
    """Delete SNO rows (dependent rows go by ON DELETE CASCADE) and leave tombstones."""
    present: list[str] = []
    for batch in chunks(sorted(set(sno_ids))):
        present += session.scalars(select(SNORow.sno_id).where(SNORow.sno_id.in_(batch))).all()
    if not present:
        return 0
    first = db.next_seq(session, len(present))
    for batch in chunks(present):
        session.execute(delete(SNORow).where(SNORow.sno_id.in_(batch)))
    now = utcnow()
    session.add_all(
        SNOTombstone(sno_id=sid, seq=first + offset, deleted_at=now) for offset, sid in enumerate(present)
    )
    session.flush()
    return len(present)


def _feed(seq: int, counter: int, limit: int | None) -> CompoundSelect[*tuple[Any, ...]]:
    """Stored and deleted SNOs numbered in ``(seq, counter]``, oldest first (one round trip)."""
    live: Select[*tuple[Any, ...]] = select(
        SNORow.seq,
        SNORow.sno_id,
        SNORow.embedding,
        SNORow.status,
        SNORow.trust,
        literal_column("0").label("deleted"),
    ).where(SNORow.seq > seq, SNORow.seq <= counter)
    dead: Select[*tuple[Any, ...]] = select(
        SNOTombstone.seq,
        SNOTombstone.sno_id,
        cast(null(), LargeBinary),
        cast(null(), String),
        cast(null(), Float),
        literal_column("1"),
    ).where(SNOTombstone.seq > seq, SNOTombstone.seq <= counter)
    return union_all(live, dead).order_by("seq").limit(limit)
