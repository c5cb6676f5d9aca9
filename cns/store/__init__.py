"""SNO stores behind the :class:`cns.ports.SNOStore` port: in-memory reference and SQL (SQLite/PostgreSQL)."""

from cns.store.memory import InMemorySNOStore
from cns.store.sql import (
    AttemptRecord,
    DeletionReport,
    DocumentRecord,
    JobRecord,
    JobState,
    PairRecord,
    SNOChange,
    SQLStore,
    database_url,
    document_id_for,
    pair_id_for,
)

__all__ = [
    "AttemptRecord",
    "DeletionReport",
    "DocumentRecord",
    "InMemorySNOStore",
    "JobRecord",
    "JobState",
    "PairRecord",
    "SNOChange",
    "SQLStore",
    "database_url",
    "document_id_for",
    "pair_id_for",
]
