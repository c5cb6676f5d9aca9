"""API keys: created once (shown once), stored as salted HMAC-SHA-256, checked in constant time.

A key reads ``cnsk_<key_id>.<secret>``. The public ``key_id`` finds the row (and names the
client in rate limits and logs); only the HMAC of the secret under a per-key salt is stored, so a
database dump does not reveal usable keys. Verification compares digests with
:func:`hmac.compare_digest` and spends the same hashing work for unknown ids.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cns.errors import ValidationError
from cns.store.sql import SQLStore
from cns.store.sql._apikeys import ApiKeyRow
from cns.store.sql.engine import writer
from cns.store.sql.schema import utcnow

PREFIX = "cnsk_"
_DUMMY_SALT = "0" * 32
#: What a key may do, weakest first: ``read`` = GET routes; ``write`` = also submit and delete its
#: own documents; ``admin`` = also delete any document.
SCOPES = ("read", "write", "admin")


@dataclass(frozen=True)
class ApiKeyInfo:
    key_id: str
    name: str
    created_at: datetime
    revoked_at: datetime | None
    scope: str = "write"

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def allows(self, scope: str) -> bool:
        """Whether this key's scope includes ``scope`` (admin ⊇ write ⊇ read)."""
        return SCOPES.index(self.scope) >= SCOPES.index(scope)


def _digest(salt: str, secret: str) -> str:
    return hmac.new(salt.encode("ascii"), secret.encode("utf-8"), hashlib.sha256).hexdigest()


def _info(row: ApiKeyRow) -> ApiKeyInfo:
    return ApiKeyInfo(row.key_id, row.name, row.created_at, row.revoked_at, row.scope or "write")


def create_api_key(store: SQLStore, *, name: str, scope: str = "write") -> tuple[ApiKeyInfo, str]:
    """Create a key named ``name``; return its info and the full key (shown once, never stored)."""
    name = name.strip()
    if not name or len(name) > 200:
        raise ValidationError("an API key needs a name of 1 to 200 characters", field="name")
    if scope not in SCOPES:
        raise ValidationError(f"an API key scope is one of {', '.join(SCOPES)}", field="scope")
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_hex(16)
    row = ApiKeyRow(
        key_id=key_id, name=name, salt=salt, digest=_digest(salt, secret), created_at=utcnow(), scope=scope
    )
    with Session(writer(store.engine)) as session, session.begin():
        session.add(row)
        session.flush()
        info = _info(row)
    return info, f"{PREFIX}{key_id}.{secret}"


def verify_api_key(store: SQLStore, presented: str | None) -> ApiKeyInfo | None:
    """The active key matching ``presented``, else ``None`` (malformed, unknown, wrong or revoked)."""
    if not presented or not presented.startswith(PREFIX) or "." not in presented:
        return None
    key_id, secret = presented[len(PREFIX) :].split(".", 1)
    if len(key_id) > 32:
        return None
    with Session(store.engine) as session:
        row = session.get(ApiKeyRow, key_id)
        info = None if row is None else _info(row)
        salt, digest = (row.salt, row.digest) if row is not None else (_DUMMY_SALT, "")
    matches = hmac.compare_digest(_digest(salt, secret), digest)
    if info is None or not matches or not info.active:
        return None
    return info


def list_api_keys(store: SQLStore) -> list[ApiKeyInfo]:
    with Session(store.engine) as session:
        rows = session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created_at, ApiKeyRow.key_id))
        return [_info(r) for r in rows]


def revoke_api_key(store: SQLStore, key_id: str) -> ApiKeyInfo | None:
    """Revoke by key id (``cnsk_`` prefix optional); ``None`` if no such key."""
    key_id = key_id.removeprefix(PREFIX).split(".", 1)[0]
    with Session(writer(store.engine)) as session, session.begin():
        row = session.get(ApiKeyRow, key_id)
        if row is None:
            return None
        if row.revoked_at is None:
            row.revoked_at = utcnow()
        session.flush()
        return _info(row)
