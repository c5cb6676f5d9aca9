"""The SQL store: SQLite by default, PostgreSQL through ``CNS_DATABASE_URL``; the one population
every process shares (docs/design-notes.md#one-shared-population).

:class:`SQLStore` composes one repository per concern on one engine (``_snos``, ``_documents``,
``_pairs``, ``_jobs``, ``_apikeys``, ``_markers``, ``_reads``, ``_lookup``); every SQL statement of CNS lives
in this package.
"""

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
