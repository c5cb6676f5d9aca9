"""The store: repositories behind the protocols of :mod:`cns.ports`, in memory and in SQL.

:class:`~cns.store.memory.InMemoryStore` is the reference implementation (no database);
:class:`~cns.store.sql.SQLStore` keeps the same repositories in SQLite or PostgreSQL. The SQL
names are imported lazily so that the in-memory store does not pull in SQLAlchemy.
"""

from __future__ import annotations

import importlib
from typing import Any

from cns.store.memory import InMemorySNOStore, InMemoryStore

_SQL_NAMES = (
    "AttemptRecord",
    "DeletionReport",
    "DocumentRecord",
    "JobRecord",
    "JobState",
    "PairRecord",
    "SNOChange",
    "SQLStore",
    "database_url",
    "document_id_for",
    "pair_id_for",
)

__all__ = ["InMemorySNOStore", "InMemoryStore", *_SQL_NAMES]


def __getattr__(name: str) -> Any:
    if name in _SQL_NAMES:
        return getattr(importlib.import_module("cns.store.sql"), name)
    raise AttributeError(f"module 'cns.store' has no attribute {name!r}")
