"""SNO stores behind the :class:`cns.ports.SNOStore` port: in-memory reference and SQL (SQLite/PostgreSQL).

The SQL names are imported lazily so that the in-memory store does not pull in SQLAlchemy.
"""

from __future__ import annotations

import importlib
from typing import Any

from cns.store.memory import InMemorySNOStore

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

__all__ = ["InMemorySNOStore", *_SQL_NAMES]


def __getattr__(name: str) -> Any:
    if name in _SQL_NAMES:
        return getattr(importlib.import_module("cns.store.sql"), name)
    raise AttributeError(f"module 'cns.store' has no attribute {name!r}")
