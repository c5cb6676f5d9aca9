"""The SQL store: SQLite by default, PostgreSQL through ``CNS_DATABASE_URL``; the one population
every process shares (docs/design-notes.md#one-shared-population).

:class:`SQLStore` composes one repository per concern on one engine (``_snos``, ``_documents``,
``_pairs``, ``_jobs``, ``_apikeys``, ``_markers``, ``_reads``, ``_lookup``); every SQL statement of CNS lives
in this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cns.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from cns.core.records import (
        ApiKeyRecord,
        AttemptRecord,
        ChangePage,
        DeletionReport,
        DocumentRecord,
        JobClaim,
        JobCompletion,
        JobRecord,
        JobState,
        JobSubmission,
        LeaseTerms,
        NewDocument,
        Page,
        PairRecord,
        SNOChange,
        SynthesisRecord,
        pair_id_for,
    )
    from cns.store.rules import document_id_for
    from cns.store.sql._lookup import IdKind, IdMatch
    from cns.store.sql.store import SQLStore
    from cns.store.sql.url import database_url, normalize_url


__all__ = [
    "ApiKeyRecord",
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
    "JobSubmission",
    "LeaseTerms",
    "NewDocument",
    "Page",
    "PairRecord",
    "SNOChange",
    "SQLStore",
    "SynthesisRecord",
    "database_url",
    "document_id_for",
    "normalize_url",
    "pair_id_for",
]

_EXPORTS = {
    "ApiKeyRecord": "cns.core.records",
    "AttemptRecord": "cns.core.records",
    "ChangePage": "cns.core.records",
    "DeletionReport": "cns.core.records",
    "DocumentRecord": "cns.core.records",
    "JobClaim": "cns.core.records",
    "JobCompletion": "cns.core.records",
    "JobRecord": "cns.core.records",
    "JobState": "cns.core.records",
    "JobSubmission": "cns.core.records",
    "LeaseTerms": "cns.core.records",
    "NewDocument": "cns.core.records",
    "Page": "cns.core.records",
    "PairRecord": "cns.core.records",
    "SNOChange": "cns.core.records",
    "SynthesisRecord": "cns.core.records",
    "pair_id_for": "cns.core.records",
    "document_id_for": "cns.store.rules",
    "IdKind": "cns.store.sql._lookup",
    "IdMatch": "cns.store.sql._lookup",
    "SQLStore": "cns.store.sql.store",
    "database_url": "cns.store.sql.url",
    "normalize_url": "cns.store.sql.url",
}

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
