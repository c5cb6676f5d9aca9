"""SNO persistence: the :class:`cns.ports.SNOStore` port plus the change feed and evidence postings.

``put`` writes the SNO row, its evidence keys, its critic results and its lineage in one
transaction, so the inverted index of the pair search can never disagree with the SNO JSON.
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
from sqlalchemy.orm import Session, aliased

from cns.core.sno import StructuredNarrativeObject
from cns.errors import SNONotFoundError, StoreError
from cns.store.sql._base import StoreBase, chunks
from cns.store.sql.records import ChangePage, SNOChange, embedding_from_bytes, embedding_to_bytes
from cns.store.sql.schema import (
    CriticResultRow,
    Document,
    EvidenceKey,
    Lineage,
    SNORow,
    SNOTombstone,
    utcnow,
)

#: Metadata keys a synthesis uses to name its parents (two named keys, and a generic list form).
PARENT_KEYS = ("source_sno_a", "source_sno_b")
PARENT_LIST_KEY = "parent_ids"


def parent_ids(sno: StructuredNarrativeObject) -> set[str]:
    found = {str(sno.metadata[k]) for k in PARENT_KEYS if sno.metadata.get(k)}
    listed = sno.metadata.get(PARENT_LIST_KEY)
    if isinstance(listed, list | tuple):
        found.update(str(p) for p in listed if p)
    found.discard(sno.sno_id)
    return found


class SNOStoreMixin(StoreBase):
    """SNO rows, evidence keys, critic results, lineage, tombstones."""

    # ------------------------------------------------------------------ the SNOStore port
    def put(self, sno: StructuredNarrativeObject, *, document_id: str | None = None) -> None:
        """Insert or replace ``sno`` (upsert) with its evidence keys and critic results.

        ``document_id`` (or ``sno.metadata["document_id"]``) links the SNO to a stored document;
        it must have been stored with :meth:`put_document` first.
        """
        with self._writing("put") as session:
            self._put_in(session, sno, document_id, self._next_seq(session))

    def put_many(self, snos: Iterable[StructuredNarrativeObject]) -> int:
        """Store all of ``snos`` in one transaction: either every one is stored or none is."""
        items = list(snos)
        if not items:
            return 0
        with self._writing("put_many") as session:
            first = self._next_seq(session, len(items))
            for offset, sno in enumerate(items):
                self._put_in(session, sno, None, first + offset)
        return len(items)

    def get(self, sno_id: str) -> StructuredNarrativeObject:
        with self._reading("get") as session:
            data = session.scalar(select(SNORow.data).where(SNORow.sno_id == sno_id))
        if data is None:
            raise SNONotFoundError.for_id(sno_id)
        return StructuredNarrativeObject.from_dict(data)

    def contains(self, sno_id: str) -> bool:
        with self._reading("contains") as session:
            return session.scalar(select(SNORow.seq).where(SNORow.sno_id == sno_id)) is not None

    def delete(self, sno_id: str) -> bool:
        """Remove one SNO and the rows that depend on it (keys, critic results, its pairs)."""
        with self._writing("delete") as session:
            return self._delete_snos(session, [sno_id]) == 1

    def list(
        self, *, status: str | None = None, min_trust: float | None = None
    ) -> builtins.list[StructuredNarrativeObject]:
        stmt = select(SNORow.data).order_by(SNORow.created_at, SNORow.sno_id)
        if status is not None:
            stmt = stmt.where(SNORow.status == str(status))
        if min_trust is not None:
            stmt = stmt.where(SNORow.trust >= min_trust)
        with self._reading("list") as session:
            rows = session.scalars(stmt).all()
        return [StructuredNarrativeObject.from_dict(data) for data in rows]

    def __len__(self) -> int:
        with self._reading("count") as session:
            return int(session.scalar(select(func.count()).select_from(SNORow)) or 0)

    # ------------------------------------------------------------------ queries beyond the port
    def count_document_snos(self) -> int:
        """How many stored SNOs were extracted from a document (syntheses are not)."""
        stmt = select(func.count()).select_from(SNORow).where(SNORow.document_id.is_not(None))
        with self._reading("count_document_snos") as session:
            return int(session.scalar(stmt) or 0)

    def find_by_content_hash(self, content_hash: str) -> builtins.list[str]:
        """Ids of SNOs saying the same thing on the same evidence (de-duplication)."""
        with self._reading("find_by_content_hash") as session:
            stmt = select(SNORow.sno_id).where(SNORow.content_hash == content_hash).order_by(SNORow.sno_id)
            return builtins.list(session.scalars(stmt).all())

    def current_seq(self) -> int:
        """The highest sequence number handed out so far (0 for an empty store)."""
        with self._reading("current_seq") as session:
            return self._change_counter(session)

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
        if limit is not None and limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        with self._reading("changes_since") as session:
            counter = self._change_counter(session)
            if counter <= seq:
                return ChangePage([], seq, True)
            rows = session.execute(_feed(seq, counter, limit)).all()
        changes = [
            SNOChange(int(s), i, None if dead else embedding_from_bytes(e), bool(dead), st, t)
            for s, i, e, st, t, dead in rows
        ]
        if limit is not None and len(changes) == limit:
            return ChangePage(changes, changes[-1].seq, changes[-1].seq >= counter)
        return ChangePage(changes, counter, True)

    def postings(self, keys: Iterable[str]) -> dict[str, set[str]]:
        """For each evidence key, the ids of the SNOs citing it (keys cited by none are absent)."""
        result: dict[str, set[str]] = {}
        with self._reading("postings") as session:
            for batch in chunks(sorted(set(keys))):
                stmt = select(EvidenceKey.key, EvidenceKey.sno_id).where(EvidenceKey.key.in_(batch))
                for key, sno_id in session.execute(stmt):
                    result.setdefault(key, set()).add(sno_id)
        return result

    def snos_sharing_evidence(self, sno_id: str) -> dict[str, int]:
        """Other SNOs sharing at least one evidence key with ``sno_id`` → number of shared keys."""
        mine, theirs = aliased(EvidenceKey), aliased(EvidenceKey)
        stmt = (
            select(theirs.sno_id, func.count())
            .join(mine, mine.key == theirs.key)
            .where(mine.sno_id == sno_id, theirs.sno_id != sno_id)
            .group_by(theirs.sno_id)
        )
        with self._reading("snos_sharing_evidence") as session:
            return {other: int(n) for other, n in session.execute(stmt)}

    # ------------------------------------------------------------------ internals
    def _put_in(
        self,
        session: Session,
        sno: StructuredNarrativeObject,
        document_id: str | None,
        seq: int,
        *,
        known_document: tuple[str, str | None] | None = None,
    ) -> None:
        """Write ``sno``'s rows in ``session``; ``known_document`` = (id, source) of a document
        this transaction has just stored, which then needs no lookup.

        Ingestion writes a new SNO, whose evidence keys, critic results and lineage cannot
        exist yet (they reference the SNO row, ON DELETE CASCADE): only a re-stored SNO has old
        rows to delete. That and the known document save five round trips per new SNO.
        """
        data = sno.to_dict()
        doc_id = document_id or _str_or_none(sno.metadata.get("document_id"))
        doc_source = None
        if known_document is not None and doc_id == known_document[0]:
            doc_source = known_document[1]
        elif doc_id is not None:
            document = session.get(Document, doc_id)
            if document is None:
                raise StoreError(
                    f"SNO {sno.sno_id} refers to document {doc_id!r}, which is not stored; "
                    "call put_document() first",
                    sno_id=sno.sno_id,
                    document_id=doc_id,
                )
            doc_source = document.source
        values: dict[str, Any] = {
            "document_id": doc_id,
            "content_hash": sno.content_hash(),
            "data": data,
            "embedding": embedding_to_bytes(sno.hypothesis_embedding),
            "trust": sno.trust_score,
            "status": str(sno.status),
            "source": _str_or_none(sno.metadata.get("source")) or doc_source,
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
            session.execute(delete(EvidenceKey).where(EvidenceKey.sno_id == sid))
            session.execute(delete(CriticResultRow).where(CriticResultRow.sno_id == sid))
            session.execute(delete(Lineage).where(Lineage.child_id == sid))
        session.add_all(EvidenceKey(sno_id=sid, key=key) for key in sorted(sno.evidence_keys))
        session.add_all(_critic_rows(sid, sno.evaluation))
        session.add_all(Lineage(child_id=sid, parent_id=p) for p in sorted(parent_ids(sno)))
        session.flush()

    def _delete_snos(self, session: Session, sno_ids: Iterable[str]) -> int:
        """Delete SNO rows (dependent rows go by ON DELETE CASCADE) and leave tombstones."""
        present: builtins.list[str] = []
        for batch in chunks(sorted(set(sno_ids))):
            present += session.scalars(select(SNORow.sno_id).where(SNORow.sno_id.in_(batch))).all()
        if not present:
            return 0
        first = self._next_seq(session, len(present))
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


def _str_or_none(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _critic_rows(sno_id: str, evaluation: dict[str, Any] | None) -> builtins.list[CriticResultRow]:
    results = (evaluation or {}).get("critic_results") or {}
    rows = []
    for name, result in sorted(results.items()):
        if not isinstance(result, dict) or "score" not in result:
            raise StoreError(
                f"SNO {sno_id}: evaluation.critic_results[{name!r}] has no score; re-evaluate the SNO",
                sno_id=sno_id,
                critic=name,
            )
        models = result.get("models") or (evaluation or {}).get("models") or {}
        rows.append(
            CriticResultRow(
                sno_id=sno_id,
                critic=str(result.get("critic") or name),
                score=float(result["score"]),
                confidence=float(result.get("confidence", 1.0)),
                models=dict(models),
            )
        )
    return rows
