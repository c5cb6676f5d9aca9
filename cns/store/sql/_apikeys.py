"""The ``api_keys`` table: API keys stored as salted HMAC-SHA-256 digests, never in clear.

Kept out of :mod:`cns.store.sql.schema` (owned by the store) but declared on the same ``Base``,
so the migration check that compares migrations with the ORM models sees it once imported.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from cns.store.sql.schema import Base, utcnow


class ApiKeyRow(Base):
    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    salt: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(16), default="write", server_default="write")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
