"""The relational schema of the CNS store (SQLAlchemy 2 typed ORM).

The full SNO lives in ``snos.data`` as its ``to_dict()`` JSON (one document per SNO);
the columns next to it (trust, status, source, content hash, embedding bytes) exist only so the
hot queries — filter by status/trust, de-duplicate by content, rebuild the vector index — never
parse JSON. ``snos.seq`` is a store-wide monotonic counter bumped on every write, and deletions
leave a row in ``sno_tombstones`` with their own seq, so the vector index can sync incrementally.

Migrations (``cns/store/migrations``) are the source of truth for the database; this module
must describe the same tables, and a test compares the two.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from cns.core.records import utcnow

JSONType = JSON().with_variant(JSONB(), "postgresql")
ID = String(128)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the offset otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSONType,
        list[Any]: JSONType,
        datetime: UTCDateTime,
    }


class Document(Base):
    __tablename__ = "documents"

    document_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str | None] = mapped_column(Text)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    char_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: the API key that first submitted the document (None: the CLI, or auth disabled)
    owner_key_id: Mapped[str | None] = mapped_column(String(32))
    #: the whole text, which the SNOs' character spans point into (None: stored before texts were
    #: kept); deferred, so reading a document's record does not read its text
    text: Mapped[str | None] = mapped_column(Text, deferred=True)


class SNORow(Base):
    __tablename__ = "snos"

    sno_id: Mapped[str] = mapped_column(ID, primary_key=True)
    document_id: Mapped[str | None] = mapped_column(ForeignKey("documents.document_id"), index=True)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    data: Mapped[dict[str, Any]]
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary)
    trust: Mapped[float | None] = mapped_column(Float, index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    source: Mapped[str | None] = mapped_column(Text, index=True)
    created_at: Mapped[datetime]
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)


class SNOTombstone(Base):
    """A deleted SNO, kept so that incremental index syncs see the deletion."""

    __tablename__ = "sno_tombstones"

    sno_id: Mapped[str] = mapped_column(ID, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    deleted_at: Mapped[datetime] = mapped_column(default=utcnow)


class Counter(Base):
    """Named monotonic counters; the row lock taken by the increment orders concurrent writers."""

    __tablename__ = "store_counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class Lineage(Base):
    """``child_id`` was synthesised from ``parent_id`` (deleting a parent deletes the child)."""

    __tablename__ = "sno_lineage"

    child_id: Mapped[str] = mapped_column(ForeignKey("snos.sno_id", ondelete="CASCADE"), primary_key=True)
    parent_id: Mapped[str] = mapped_column(ID, primary_key=True, index=True)


class PairRow(Base):
    __tablename__ = "pairs"

    pair_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sno_a: Mapped[str] = mapped_column(ForeignKey("snos.sno_id", ondelete="CASCADE"), index=True)
    sno_b: Mapped[str] = mapped_column(ForeignKey("snos.sno_id", ondelete="CASCADE"), index=True)
    chirality: Mapped[float] = mapped_column(Float)
    entanglement: Mapped[float] = mapped_column(Float)
    potential: Mapped[float] = mapped_column(Float, index=True)
    shared: Mapped[list[Any]] = mapped_column(default=list)
    conflicts: Mapped[list[Any]] = mapped_column(default=list)
    found_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: the stance term before ``T_a · T_b``; where the pair came from; what it shares and how
    opposition: Mapped[float] = mapped_column(Float, default=0.0)
    source: Mapped[str] = mapped_column(String(16), default="evidence")
    evidence_matches: Mapped[list[Any]] = mapped_column(default=list)


class AttemptRow(Base):
    __tablename__ = "synthesis_attempts"

    pair_id: Mapped[str] = mapped_column(ForeignKey("pairs.pair_id", ondelete="CASCADE"), primary_key=True)
    attempt_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    accepted: Mapped[bool | None] = mapped_column(Boolean)
    result_sno_id: Mapped[str | None] = mapped_column(ID, index=True)
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    cooldown_until: Mapped[datetime | None]


class JobRow(Base):
    __tablename__ = "jobs"

    job_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    result: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    deadline: Mapped[datetime | None]
    lease_token: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    lease_owner: Mapped[str | None] = mapped_column(String(255))
    lease_expires_at: Mapped[datetime | None]

    __table_args__ = (UniqueConstraint("idempotency_key", name="uq_jobs_idempotency_key"),)


class ApiKeyRow(Base):
    """An API key of the HTTP service, stored as a salted HMAC-SHA-256 digest, never in clear."""

    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    salt: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(16), default="write", server_default="write")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
