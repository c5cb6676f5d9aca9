"""Finding stored SNOs, documents, pairs and jobs by the start of their id, or SNOs by file name.

Ids are long hex strings (a document id has 64 digits); people copy the first few. Every CLI
command that takes an id resolves it through :meth:`SQLIdLookup.ids_with_prefix` (by way of
:mod:`cns.services.lookup`), so a prefix means the same thing everywhere. The query is one
``LIKE 'prefix%'`` on the primary key (``%``, ``_`` and ``\\`` in the prefix are escaped), plus
an exact-case comparison: SQLite's ``LIKE`` ignores ASCII case, PostgreSQL's does not, and a
prefix must match the same ids on both.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased

from cns.store.sql._base import Database
from cns.store.sql.schema import Document, JobRow, PairRow, SNORow

IdKind = Literal["sno", "document", "pair", "job"]
ID_KINDS: tuple[IdKind, ...] = ("sno", "document", "pair", "job")


@dataclass(frozen=True)
class IdMatch:
    """One stored object whose id starts with the prefix asked for, and where it came from.

    ``sources`` holds the file name(s) a person knows the object by: the SNO's or document's
    ``source`` (one entry, or none when it was stored without one), both SNOs' sources for a pair,
    the job's kind for a job (a job has no file of its own).
    """

    kind: IdKind
    id: str
    sources: tuple[str | None, ...]
    sno_id: str | None = None  # an SNO: itself; a document: one SNO extracted from it (first by id)
    document_id: str | None = None  # an SNO: the document it was extracted from (None for a synthesis)


def like_prefix(prefix: str) -> str:
    r"""The ``LIKE`` pattern for ``prefix`` followed by anything (``\`` is the escape character)."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def _starts_with(column: Any, prefix: str) -> Any:
    return (column.like(like_prefix(prefix), escape="\\")) & (func.substr(column, 1, len(prefix)) == prefix)


class SQLIdLookup:
    """Id-prefix and file-name lookups on the shared :class:`~cns.store.sql._base.Database`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def ids_with_prefix(self, kind: IdKind, prefix: str, *, limit: int = 10) -> builtins.list[IdMatch]:
        """Up to ``limit`` stored objects of ``kind`` whose id starts with ``prefix``, ordered by id."""
        if kind not in ID_KINDS:
            raise ValueError(f"unknown id kind {kind!r}; expected one of {', '.join(ID_KINDS)}")
        with self._db.reading("ids_with_prefix") as session:
            if kind == "sno":
                rows = session.execute(
                    select(SNORow.sno_id, SNORow.source, SNORow.document_id)
                    .where(_starts_with(SNORow.sno_id, prefix))
                    .order_by(SNORow.sno_id)
                    .limit(limit)
                ).all()
                return [IdMatch("sno", sid, (source,), sid, doc) for sid, source, doc in rows]
            if kind == "document":
                first_sno = (
                    select(func.min(SNORow.sno_id))
                    .where(SNORow.document_id == Document.document_id)
                    .scalar_subquery()
                )
                rows = session.execute(
                    select(Document.document_id, Document.source, first_sno)
                    .where(_starts_with(Document.document_id, prefix))
                    .order_by(Document.document_id)
                    .limit(limit)
                ).all()
                return [IdMatch("document", did, (source,), sno, did) for did, source, sno in rows]
            if kind == "job":
                jobs = session.execute(
                    select(JobRow.job_id, JobRow.kind)
                    .where(_starts_with(JobRow.job_id, prefix))
                    .order_by(JobRow.job_id)
                    .limit(limit)
                ).all()
                return [IdMatch("job", jid, (job_kind,)) for jid, job_kind in jobs]
            a, b = aliased(SNORow), aliased(SNORow)
            rows = session.execute(
                select(PairRow.pair_id, a.source, b.source)
                .join(a, a.sno_id == PairRow.sno_a)
                .join(b, b.sno_id == PairRow.sno_b)
                .where(_starts_with(PairRow.pair_id, prefix))
                .order_by(PairRow.pair_id)
                .limit(limit)
            ).all()
            return [IdMatch("pair", pid, (sa, sb)) for pid, sa, sb in rows]

    def snos_with_source(self, name: str, *, limit: int = 10) -> builtins.list[IdMatch]:
        """SNOs whose source is ``name`` or ends in ``/name`` (a file name without its folder)."""
        suffix = "%/" + like_prefix(name)[:-1]
        with self._db.reading("snos_with_source") as session:
            rows = session.execute(
                select(SNORow.sno_id, SNORow.source, SNORow.document_id)
                .where(or_(SNORow.source == name, SNORow.source.like(suffix, escape="\\")))
                .order_by(SNORow.sno_id)
                .limit(limit)
            ).all()
        return [  # exact: SQLite's LIKE ignores case
            IdMatch("sno", sid, (source,), sid, doc)
            for sid, source, doc in rows
            if source is not None and (source == name or source.endswith("/" + name))
        ]
