"""The API-key repository (:class:`cns.ports.ApiKeyRepository`): rows of salted digests.

The store keeps what a key *is* (id, name, scope, salt, digest, when created and revoked); making
a key and checking a presented one — the hashing, the constant-time comparison — live in
:mod:`cns.services.apikeys`, which never sees a database session.
"""

from __future__ import annotations

import builtins
from datetime import datetime

from sqlalchemy import select

from cns.core.records import ApiKeyRecord, as_utc, utcnow
from cns.errors import StoreError
from cns.store.sql._base import Database
from cns.store.sql.schema import ApiKeyRow


class SQLApiKeyRepository:
    """API keys on the shared :class:`~cns.store.sql._base.Database`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, key: ApiKeyRecord) -> ApiKeyRecord:
        with self._db.writing("add_api_key") as session:
            if session.get(ApiKeyRow, key.key_id) is not None:
                raise StoreError(f"an API key with id {key.key_id!r} is already stored", key_id=key.key_id)
            row = ApiKeyRow(
                key_id=key.key_id,
                name=key.name,
                salt=key.salt,
                digest=key.digest,
                scope=key.scope,
                created_at=key.created_at,
                revoked_at=key.revoked_at,
            )
            session.add(row)
            session.flush()
            return api_key_of(row)

    def get(self, key_id: str) -> ApiKeyRecord | None:
        with self._db.reading("get_api_key") as session:
            row = session.get(ApiKeyRow, key_id)
            return None if row is None else api_key_of(row)

    def list(self) -> builtins.list[ApiKeyRecord]:
        stmt = select(ApiKeyRow).order_by(ApiKeyRow.created_at, ApiKeyRow.key_id)
        with self._db.reading("list_api_keys") as session:
            return [api_key_of(row) for row in session.scalars(stmt)]

    def revoke(self, key_id: str, *, at: datetime | None = None) -> ApiKeyRecord | None:
        with self._db.writing("revoke_api_key") as session:
            row = session.get(ApiKeyRow, key_id)
            if row is None:
                return None
            if row.revoked_at is None:
                row.revoked_at = at or utcnow()
            session.flush()
            return api_key_of(row)


def api_key_of(row: ApiKeyRow) -> ApiKeyRecord:
    return ApiKeyRecord(
        key_id=row.key_id,
        name=row.name,
        salt=row.salt,
        digest=row.digest,
        scope=row.scope or "write",
        created_at=as_utc(row.created_at),
        revoked_at=None if row.revoked_at is None else as_utc(row.revoked_at),
    )
