"""API keys: created once (shown once), stored as salted HMAC-SHA-256, checked in constant time.

A key reads ``cnsk_<key_id>.<secret>``. The public ``key_id`` finds the row (and names the
client in rate limits and logs); only the HMAC of the secret under a per-key salt is stored, so a
database dump does not reveal usable keys. Verification compares digests with
:func:`hmac.compare_digest` and spends the same hashing work for unknown ids.

The rows live in the store's API-key repository (``store.api_keys``), whose errors are the
store's: during a database outage a key check raises :class:`~cns.errors.StoreError`, which the
API answers with 503 like any other read.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from cns.core.records import ApiKeyRecord, utcnow
from cns.errors import ValidationError
from cns.ports import StoreRepositories

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


def _info(key: ApiKeyRecord) -> ApiKeyInfo:
    return ApiKeyInfo(key.key_id, key.name, key.created_at, key.revoked_at, key.scope or "write")


def create_api_key(store: StoreRepositories, *, name: str, scope: str = "write") -> tuple[ApiKeyInfo, str]:
    """Create a key named ``name``; return its info and the full key (shown once, never stored)."""
    name = name.strip()
    if not name or len(name) > 200:
        raise ValidationError("an API key needs a name of 1 to 200 characters", field="name")
    if scope not in SCOPES:
        raise ValidationError(f"an API key scope is one of {', '.join(SCOPES)}", field="scope")
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_hex(16)
    record = ApiKeyRecord(key_id, name, salt, _digest(salt, secret), scope, utcnow())
    return _info(store.api_keys.add(record)), f"{PREFIX}{key_id}.{secret}"


def verify_api_key(store: StoreRepositories, presented: str | None) -> ApiKeyInfo | None:
    """The active key matching ``presented``, else ``None`` (malformed, unknown, wrong or revoked)."""
    if not presented or not presented.startswith(PREFIX) or "." not in presented:
        return None
    key_id, secret = presented[len(PREFIX) :].split(".", 1)
    if len(key_id) > 32:
        return None
    stored = store.api_keys.get(key_id)
    salt, digest = (stored.salt, stored.digest) if stored is not None else (_DUMMY_SALT, "")
    matches = hmac.compare_digest(_digest(salt, secret), digest)
    if stored is None or not matches or stored.revoked_at is not None:
        return None
    return _info(stored)


def list_api_keys(store: StoreRepositories) -> list[ApiKeyInfo]:
    return [_info(key) for key in store.api_keys.list()]


def revoke_api_key(store: StoreRepositories, key_id: str) -> ApiKeyInfo | None:
    """Revoke by key id (``cnsk_`` prefix optional); ``None`` if no such key."""
    key_id = key_id.removeprefix(PREFIX).split(".", 1)[0]
    revoked = store.api_keys.revoke(key_id)
    return None if revoked is None else _info(revoked)
