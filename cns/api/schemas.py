"""Request and response models of the HTTP API (unknown fields are rejected with 422).

Limits that come from configuration (``service.max_text_chars``, ``service.max_batch_documents``)
are checked in the routes, since a pydantic model's bounds are fixed at import time; the static
bounds here only stop absurd inputs before any work is done.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, field_validator

from cns.api.stored import STORED_TEXT, StoredMetadata, metadata_problem
from cns.core.storable import text_problem

MAX_SOURCE_CHARS = 2000
#: Largest page offset: the 64-bit signed integer SQLite and PostgreSQL bind for OFFSET. A larger
#: one is a 422 here instead of an OverflowError (a 500) inside the database driver.
MAX_OFFSET = 2**63 - 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IngestRequest(_Strict):
    """One document: ``source`` names where it came from (kept as ``metadata.source`` of its SNO)."""

    source: StrictStr = Field(
        max_length=MAX_SOURCE_CHARS, json_schema_extra=STORED_TEXT, description="where the text came from"
    )
    text: StrictStr = Field(
        json_schema_extra=STORED_TEXT,
        description="the document text, not blank (at most service.max_text_chars)",
    )
    metadata: StoredMetadata | None = Field(None, description="optional title, author, date, url …")

    @field_validator("source", "text")
    @classmethod
    def _storable_text(cls, value: str) -> str:
        """NUL and unpaired surrogates are a 422 here, not a database error later (core.storable)."""
        problem = text_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("metadata", mode="before")
    @classmethod
    def _storable_metadata(cls, value: Any) -> Any:
        """NUL, surrogates, NaN/Infinity (Python's JSON parser accepts them, jsonb does not) and
        absurd nesting get one clear message before the type check lists one error per JSON type."""
        problem = metadata_problem(value)
        if problem:
            raise ValueError(problem)
        return value


class IngestBatchRequest(_Strict):
    documents: list[IngestRequest] = Field(min_length=1, description="at most service.max_batch_documents")


class IngestAccepted(BaseModel):
    task_id: str = Field(description="poll GET /tasks/{task_id}")
    job_id: str
    document_id: str | None
    state: str
    created: bool = Field(description="false when an Idempotency-Key replay returned an earlier job")
    submitted_by_another_key: bool = Field(
        False,
        description="true when the same text was first submitted by another API key: this job links "
        "to that document (and its SNO) but does not change its source or metadata",
    )


class IngestBatchAccepted(BaseModel):
    items: list[IngestAccepted]


class SynthesizeRequest(_Strict):
    force: StrictBool = Field(False, description="ignore the pair's cooldown")


class TaskStatus(BaseModel):
    task_id: str
    job_id: str
    kind: str
    state: Literal["PENDING", "STARTED", "SUCCESS", "FAILURE"]
    attempts: int
    document_id: str | None = None
    pair_id: str | None = None
    sno_id: str | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class ItemPage(BaseModel):
    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int


class DeletionResult(BaseModel):
    document_id: str
    document_removed: bool
    sno_ids: list[str]
    synthesis_ids: list[str]
    pair_ids: list[str]
    attempts_removed: int


class Health(BaseModel):
    status: str
    checks: dict[str, dict[str, Any]] = Field(default_factory=dict)
