"""The SQL store: SQLite by default, PostgreSQL through ``CNS_DATABASE_URL``; the one population
every process shares (docs/design-notes.md#one-shared-population)."""

from cns.store.sql import _apikeys as _apikeys  # registers the api_keys model on Base.metadata
from cns.store.sql._documents import document_id_for
from cns.store.sql._lookup import IdKind, IdMatch
from cns.store.sql.records import (
    AttemptRecord,
    ChangePage,
    DeletionReport,
    DocumentRecord,
    JobClaim,
    JobCompletion,
    JobRecord,
    JobState,
    NewDocument,
    PairRecord,
    SNOChange,
    pair_id_for,
)
from cns.store.sql.store import SQLStore
from cns.store.sql.url import database_url, normalize_url

__all__ = [
    "AttemptRecord",
    "ChangePage",
    "DeletionReport",
    "DocumentRecord",
    "IdKind",
    "IdMatch",
    "JobClaim",
    "JobCompletion",
    "JobRecord",
    "JobState",
    "NewDocument",
    "PairRecord",
    "SNOChange",
    "SQLStore",
    "database_url",
    "document_id_for",
    "normalize_url",
    "pair_id_for",
]
