"""Documents and the cascading delete ``cns delete DOC_ID`` relies on.

A document id is the SHA-256 of its normalised text, so storing the same text twice is a no-op
and re-running ``cns run`` on an unchanged corpus finds every document already present.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import Table, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from cns.core.ids import normalize_text, sha256_hex
from cns.store.sql._base import chunks
from cns.store.sql._snos import SNOStoreMixin
from cns.store.sql.records import DeletionReport, DocumentRecord
from cns.store.sql.schema import AttemptRow, Document, Lineage, PairRow, SNORow, utcnow


def document_id_for(text: str) -> str:
    """The stable id of a document: SHA-256 of its normalised text."""
    return sha256_hex(normalize_text(text))


class DocumentStoreMixin(SNOStoreMixin):
    def _forget_document_in_jobs(self, session: Session, document_id: str) -> int:
        return 0  # the job store (a subclass) removes the text from the document's jobs

    def put_document(
        self, text: str, *, source: str | None = None, metadata: dict[str, Any] | None = None
    ) -> DocumentRecord:
        """Store (or update the source/metadata of) the document whose content is ``text``."""
        with self._writing("put_document") as session:
            document_id = self._put_document_in(session, text, source, metadata)
            stored = session.get(Document, document_id, populate_existing=True)
            assert stored is not None
            return _document(stored)

    def _put_document_in(
        self,
        session: Session,
        text: str,
        source: str | None,
        metadata: dict[str, Any] | None,
        owner_key_id: str | None = None,
    ) -> str:
        """The upsert of :meth:`put_document`, inside the caller's transaction; the document id.

        A new document records ``owner_key_id`` (the API key that submitted it). Storing the same
        text again updates ``source`` and ``metadata`` only for the same owner: another key's
        duplicate must not rewrite the first key's record (it links to the same document).
        """
        document_id = document_id_for(text)
        row = {
            "document_id": document_id,
            "source": source,
            "metadata": dict(metadata or {}),
            "char_count": len(text),
            "created_at": utcnow(),
            "owner_key_id": owner_key_id,
        }
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        table = cast(Table, Document.__table__)
        stmt = insert(table).values([row])
        stmt = stmt.on_conflict_do_update(  # one statement: no extra round trip for the owner check
            index_elements=["document_id"],
            set_={"source": stmt.excluded.source, "metadata": stmt.excluded.metadata},
            where=table.c.owner_key_id.is_not_distinct_from(stmt.excluded.owner_key_id),
        )
        session.execute(stmt)
        return document_id

    def document_owner(self, document_id: str) -> tuple[bool, str | None]:
        """(the document exists, the key that submitted it — None for the CLI or with auth off)."""
        with self._reading("document_owner") as session:
            row = session.get(Document, document_id)
            return (False, None) if row is None else (True, row.owner_key_id)

    def get_document(self, document_id: str) -> DocumentRecord | None:
        with self._reading("get_document") as session:
            row = session.get(Document, document_id)
            return None if row is None else _document(row)

    def document_exists(self, document_id: str) -> bool:
        with self._reading("document_exists") as session:
            stmt = select(Document.document_id).where(Document.document_id == document_id)
            return session.scalar(stmt) is not None

    def list_documents(self) -> builtins.list[DocumentRecord]:
        with self._reading("list_documents") as session:
            rows = session.scalars(select(Document).order_by(Document.created_at, Document.document_id))
            return [_document(row) for row in rows]

    def snos_of_document(self, document_id: str) -> builtins.list[str]:
        with self._reading("snos_of_document") as session:
            stmt = select(SNORow.sno_id).where(SNORow.document_id == document_id).order_by(SNORow.sno_id)
            return builtins.list(session.scalars(stmt).all())

    def delete_document(self, document_id: str) -> DeletionReport:
        """Remove a document and everything derived from it, in one transaction.

        That is: its SNO(s); syntheses derived from them, transitively (found through the lineage
        recorded from synthesis metadata and through accepted synthesis attempts); the evidence
        keys and critic results of all of those; every pair and synthesis attempt involving any
        of them. Deleted SNOs leave tombstones, so :meth:`snos_since` reports them to the index.
        """
        with self._writing("delete_document") as session:
            self._forget_document_in_jobs(session, document_id)
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
            self._delete_snos(session, doomed)  # pairs and attempts go by ON DELETE CASCADE
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


def _document(row: Document) -> DocumentRecord:
    return DocumentRecord(
        document_id=row.document_id,
        source=row.source,
        metadata=dict(row.meta or {}),
        char_count=row.char_count,
        created_at=row.created_at,
        owner_key_id=row.owner_key_id,
    )
