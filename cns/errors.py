"""The CNS error hierarchy.

Every error CNS raises on purpose derives from :class:`CNSError`, so callers can catch one type.
Each error carries structured context (``key``, ``component``, ``job_id`` …) in ``details`` and
builds its message in one place, so that the CLI, the API and the logs all say the same thing::

    CNSError
    ├── ConfigError                 invalid or inconsistent configuration (names the key)
    ├── ValidationError (ValueError) data that breaks an SNO / evidence / graph invariant
    │   ├── GraphCycleError          adding an edge would create a cycle
    │   ├── UnknownNodeError         an edge or lookup names a claim id that does not exist
    │   └── EmbeddingDimensionError  a vector's length differs from the configured model's
    ├── ModelError                  a model backend failed to load or to answer
    │   ├── ModelUnavailableError    weights / endpoint not found or not reachable offline
    │   ├── ModelsBusyError          a job held the process's models longer than a request waits
    │   └── LLMResponseError         the LLM answered something unusable (bad JSON, schema)
    ├── StoreError                  persistence failed
    │   ├── StoreUnavailableError     the database dropped or refused the connection (transient)
    │   ├── SNONotFoundError (KeyError)
    │   ├── PairNotFoundError (KeyError)  no stored chiral pair has that id
    │   ├── DocumentNotFoundError (KeyError)  no stored document has that id (or id prefix)
    │   └── AmbiguousIdError          an id prefix matches several SNOs, documents or pairs
    ├── VectorIndexError            the vector index is inconsistent or unusable
    ├── IngestionError              a document could not be turned into an SNO
    ├── JobError                    a background job failed (carries ``job_id``)
    │   └── BrokerUnavailable         the broker did not take a message in time (transient)
    └── TransientError              mixin: the database or the broker failed, not the work itself

``ValidationError`` subclasses :class:`ValueError` and ``SNONotFoundError`` subclasses
:class:`KeyError`, so code written against the builtins keeps working.

A :class:`TransientError` says nothing about the job or the document: the same work can succeed
once the database or the broker answers again. :func:`is_transient` finds one anywhere in an
exception's chain, so code that wraps errors (ingestion turns every failure into
``IngestionError``) cannot hide it and make a job fail for good.
"""

from __future__ import annotations

from typing import Any


class CNSError(Exception):
    """Base class of every error raised by CNS on purpose."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        """The JSON-safe form used by the API error body and by structured logs."""
        return {"type": type(self).__name__, "message": self.message, "details": self.details}


class ConfigError(CNSError):
    """A configuration value is invalid, inconsistent or unsafe; ``details['key']`` names it."""

    @classmethod
    def for_key(cls, key: str, problem: str) -> ConfigError:
        return cls(f"configuration key '{key}': {problem}", key=key)


class ValidationError(CNSError, ValueError):
    """Data violates an invariant of the SNO model."""


class GraphCycleError(ValidationError):
    """An edge would close a cycle in a reasoning graph, which must stay a DAG."""

    @classmethod
    def for_edge(cls, source: str, target: str) -> GraphCycleError:
        return cls(
            f"edge {source!r} -> {target!r} would create a cycle: {target!r} already reaches {source!r}",
            source=source,
            target=target,
        )


class UnknownNodeError(ValidationError):
    """A claim id is not a node of the reasoning graph."""

    @classmethod
    def for_node(cls, node_id: str) -> UnknownNodeError:
        return cls(f"unknown claim id {node_id!r}: add the claim before referring to it", node_id=node_id)


class EmbeddingDimensionError(ValidationError):
    """An embedding's length is not the configured ``embedding_dim``."""

    @classmethod
    def mismatch(cls, *, expected: int, actual: int, key: str = "embedding_dim") -> EmbeddingDimensionError:
        return cls(
            f"embedding has dimension {actual} but configuration key '{key}' is {expected}; "
            f"set {key} (env CNS_EMBEDDING_DIM) to the model's real output dimension",
            key=key,
            expected=expected,
            actual=actual,
        )


class ModelError(CNSError):
    """A model backend failed."""


class ModelUnavailableError(ModelError):
    """Weights or an endpoint could not be found or reached (CNS never downloads implicitly)."""


class ModelsBusyError(ModelError):
    """A request waited too long for models a running job of the same process holds (``cns ui``,
    where the pages and the in-process jobs share one copy); asking again later succeeds."""


class LLMResponseError(ModelError):
    """The LLM's answer could not be parsed or validated."""


class TransientError(CNSError):
    """The database or the broker failed (lost connection, refused connection, timeout), not the
    work: retrying the same work later can succeed, so it must never fail a job for good."""


class StoreError(CNSError):
    """Persistence failed."""


class StoreUnavailableError(StoreError, TransientError):
    """The database could not be reached, dropped the connection or asked to retry (a lost or
    refused connection, a server shutting down, a deadlock or serialization failure, a locked
    SQLite file)."""


class SNONotFoundError(StoreError, KeyError):
    """No SNO has the requested id."""

    @classmethod
    def for_id(cls, sno_id: str) -> SNONotFoundError:
        return cls(f"no SNO with id {sno_id!r}", sno_id=sno_id)

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self.message


class PairNotFoundError(StoreError, KeyError):
    """No chiral pair is stored under the requested id (never found, or a document was deleted)."""

    @classmethod
    def for_id(cls, pair_id: str) -> PairNotFoundError:
        return cls(
            f"no stored pair {pair_id!r}: run `cns pairs` first, or its documents were deleted",
            pair_id=pair_id,
        )

    def __str__(self) -> str:
        return self.message


class DocumentNotFoundError(StoreError, KeyError):
    """No stored document has the requested id (or id prefix)."""

    def __str__(self) -> str:
        return self.message


class JobNotFoundError(StoreError, KeyError):
    """No job has the requested id (or id prefix)."""

    def __str__(self) -> str:
        return self.message


class AmbiguousIdError(StoreError):
    """An id prefix matches more than one stored object; ``details['candidates']`` lists them
    as ``(id, file name)`` so a person can pick a longer prefix."""


class VectorIndexError(CNSError):
    """The vector index is inconsistent with the store or cannot be used."""


class IngestionError(CNSError):
    """A document could not be turned into an SNO."""


class JobError(CNSError):
    """A background job failed; ``details['job_id']`` identifies it."""


class BrokerUnavailable(JobError, TransientError):
    """The broker did not accept a message before the publish deadline (the API answers 503)."""


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` or any exception it was raised from (its cause or context) is a
    :class:`TransientError`."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, TransientError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
