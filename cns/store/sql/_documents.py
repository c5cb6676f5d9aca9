"""The document repository (:class:`cns.ports.DocumentRepository`) and the deletes that cascade.

A document id is the SHA-256 of its normalised text, so storing the same text twice is a no-op
and re-running ``cns run`` on an unchanged corpus finds every document already present.

``put_with_document`` is the write that ends an ingestion: document, SNO and (for a job) its
SUCCESS in one transaction. Every commit waits for the database's disk flush, and on a busy
host that flush, not the SQL, is what a commit costs; one commit instead of three per document
is also the stronger guarantee — the SNO exists exactly when its job says SUCCESS, so no crash
can leave a stored SNO behind a job that is still STARTED.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from cns.core.records import DeletionReport, DocumentRecord, JobCompletion, JobRecord, utcnow
from cns.core.sno import StructuredNarrativeObject
from cns.store.rules import document_id_for
from cns.store.sql._base import Database, chunks, insert_for, table_of
from cns.store.sql._job_rows import LeaseSuperseded, complete_in, forget_document_in_jobs, job_owner_in
from cns.store.sql._snos import delete_snos_in, put_sno_in
from cns.store.sql.schema import AttemptRow, Document, Lineage, PairRow, SNORow


class SQLDocumentRepository:
    """Documents on the shared :class:`~cns.store.sql._base.Database`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def put_document(
        self, text: str, *, source: str | None = None, metadata: dict[str, Any] | None = None
    ) -> DocumentRecord:
        """Store (or update the source/metadata of) the document whose content is ``text``."""
        with self._db.writing("put_document") as session:
            document_id = put_document_in(session, text, source, metadata)
            stored = session.get(Document, document_id, populate_existing=True)
            assert stored is not None
            return document_of(stored)

    def document_owner(self, document_id: str) -> tuple[bool, str | None]:
        """(the document exists, the key that submitted it — None for the CLI or with auth off)."""
        with self._db.reading("document_owner") as session:
            row = session.get(Document, document_id)
            return (False, None) if row is None else (True, row.owner_key_id)

    def get_document(self, document_id: str) -> DocumentRecord | None:
        with self._db.reading("get_document") as session:
            row = session.get(Document, document_id)
            return None if row is None else document_of(row)

    def document_exists(self, document_id: str) -> bool:
        with self._db.reading("document_exists") as session:
            stmt = select(Document.document_id).where(Document.document_id == document_id)
            return session.scalar(stmt) is not None

    def list_documents(self) -> builtins.list[DocumentRecord]:
        with self._db.reading("list_documents") as session:
            rows = session.scalars(select(Document).order_by(Document.created_at, Document.document_id))
            return [document_of(row) for row in rows]

    def document_text(self, document_id: str) -> str | None:
        with self._db.reading("document_text") as session:
            return session.scalar(select(Document.text).where(Document.document_id == document_id))

    def snos_of_document(self, document_id: str) -> builtins.list[str]:
        with self._db.reading("snos_of_document") as session:
            stmt = select(SNORow.sno_id).where(SNORow.document_id == document_id).order_by(SNORow.sno_id)
            return builtins.list(session.scalars(stmt).all())

    def delete_document(self, document_id: str) -> DeletionReport:
        """Remove a document and everything derived from it, in one transaction.

        That is: its SNO(s); syntheses derived from them, transitively (found through the lineage
        recorded from synthesis metadata and through accepted synthesis attempts); every pair and
        synthesis attempt involving any of them. The document's text leaves its jobs. Deleted
        SNOs leave tombstones, so the change feed reports them to every index.
        """
        with self._db.writing("delete_document") as session:
            forget_document_in_jobs(session, document_id)
            direct = builtins.list(
                session.scalars(select(SNORow.sno_id).where(SNORow.document_id == document_id)).all()
            )
            derived = _derived_syntheses(session, set(direct))
            doomed = set(direct) | derived
            pair_ids: set[str] = set()
            for batch in chunks(sorted(doomed)):
                pair_ids.update(
                    session.scalars(
                        select(PairRow.pair_id).where(or_(PairRow.sno_a.in_(batch), PairRow.sno_b.in_(batch)))
                    )
                )
            attempts = 0
            for batch in chunks(sorted(pair_ids)):
                count_stmt = select(func.count()).select_from(AttemptRow).where(AttemptRow.pair_id.in_(batch))
                attempts += int(session.scalar(count_stmt) or 0)
            delete_snos_in(self._db, session, doomed)  # pairs and attempts go by ON DELETE CASCADE
            document = session.get(Document, document_id)
            if document is not None:
                session.delete(document)
        return DeletionReport(
            document_id=document_id,
            document_removed=document is not None,
            sno_ids=sorted(direct),
            synthesis_ids=sorted(derived),
            pair_ids=sorted(pair_ids),
            attempts_removed=attempts,
        )

    def put_with_document(
        self,
        sno: StructuredNarrativeObject,
        text: str,
        *,
        source: str | None = None,
        metadata: dict[str, Any] | None = None,
        completes: JobCompletion | None = None,
    ) -> JobRecord | None:
        """Store the document ``text``, the SNO derived from it and, with ``completes``, the job's SUCCESS.

        Returns the job as it is after the transaction (``None`` without ``completes``). The
        change counter is locked first, in the order :meth:`delete_document` takes its locks, so
        the two cannot deadlock on the document row. The job transition is the one of
        ``complete_job`` (a job already SUCCESS keeps its first result). A ``completes`` whose
        lease token is stale writes nothing at all (the job was claimed again since); the job
        is returned as it is, with the newer token.
        """
        token = None if completes is None else completes.lease_token
        try:
            with self._db.writing("put_with_document") as session:
                seq = self._db.next_seq(session)
                owner = (
                    None if completes is None else job_owner_in(session, completes.job_id, lease_token=token)
                )
                document_id = put_document_in(session, text, source, dict(metadata or {}), owner)
                put_sno_in(session, sno, None, seq, known_document=(document_id, source))
                return None if completes is None else complete_in(session, "put_with_document", completes)
        except LeaseSuperseded as stale:
            return stale.job


def put_document_in(
    session: Session,
    text: str,
    source: str | None,
    metadata: dict[str, Any] | None,
    owner_key_id: str | None = None,
) -> str:
    """The upsert of ``put_document``, inside the caller's transaction; the document id.

    A new document records ``owner_key_id`` (the API key that submitted it) and its whole text.
    Storing the same text again updates ``source`` and ``metadata`` only for the same owner:
    another key's duplicate must not rewrite the first key's record (it links to the same
    document). The first text stays (texts of one id differ at most in whitespace, and the SNO's
    spans point into the first); a row stored before texts were kept gets this one.
    """
    document_id = document_id_for(text)
    row = {
        "document_id": document_id,
        "source": source,
        "metadata": dict(metadata or {}),
        "char_count": len(text),
        "created_at": utcnow(),
        "owner_key_id": owner_key_id,
        "text": text,
    }
    table = table_of(Document)
    # one row as keywords, not a list: a multi-row VALUES has no cache key, and SQLAlchemy then
    # compiled this statement afresh for every document (~3 ms of CPU per submission)
    stmt = insert_for(session)(table).values(**row)
    stmt = stmt.on_conflict_do_update(  # one statement: no extra round trip for the owner check
        index_elements=["document_id"],
        set_={
            "source": stmt.excluded.source,
            "metadata": stmt.excluded.metadata,
            "text": func.coalesce(table.c.text, stmt.excluded.text),
        },
        where=table.c.owner_key_id.is_not_distinct_from(stmt.excluded.owner_key_id),
    )
    session.execute(stmt)
    return document_id


def _derived_syntheses(session: Session, roots: set[str]) -> set[str]:
    """Stored SNOs synthesised (directly or transitively) from any of ``roots``."""
    derived: set[str] = set()
    frontier = set(roots)
    while frontier:
        found: set[str] = set()
        for batch in chunks(sorted(frontier)):
            found.update(session.scalars(select(Lineage.child_id).where(Lineage.parent_id.in_(batch))))
            via_attempts = (
                select(AttemptRow.result_sno_id)
                .join(PairRow, PairRow.pair_id == AttemptRow.pair_id)
                .where(AttemptRow.result_sno_id.is_not(None))
                .where(or_(PairRow.sno_a.in_(batch), PairRow.sno_b.in_(batch)))
            )
            found.update(r for r in session.scalars(via_attempts) if r is not None)
        found -= roots | derived
        found = set(_existing(session, found))
        derived |= found
        frontier = found
    return derived


def _existing(session: Session, sno_ids: Iterable[str]) -> builtins.list[str]:
    present: builtins.list[str] = []
    for batch in chunks(sorted(set(sno_ids))):
        present += session.scalars(select(SNORow.sno_id).where(SNORow.sno_id.in_(batch))).all()
    return present


def document_of(row: Document) -> DocumentRecord:
    return DocumentRecord(
        document_id=row.document_id,
        source=row.source,
        metadata=dict(row.meta or {}),
        char_count=row.char_count,
        created_at=row.created_at,
        owner_key_id=row.owner_key_id,
    )
