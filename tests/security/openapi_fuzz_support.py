"""What the OpenAPI fuzz test checks on every response, and what it counts for the results row.

schemathesis generates requests from the API's own OpenAPI document (schema-valid "positive"
ones and schema-violating "negative" ones) and sends them in-process to the ASGI app. Its
built-in checks compare each response with the document (documented status, content type and
body schema); the checks here add what the document cannot say:

* never a 5xx (a 500 surfaces as the app's exception, a 503 as a status);
* every 4xx in the one error shape of :mod:`cns.api.errors`, written out independently of the
  product's own models so that a change to both would still be caught;
* a schema-valid request is accepted unless state or content makes it a documented client
  error (an unknown id, a reused Idempotency-Key, an upload without a usable document, a
  missing key when auth is on).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from schemathesis.core.transport import Response
from schemathesis.generation.modes import GenerationMode

ERROR_KEYS = {"status", "type", "message", "details", "request_id"}
FILES_OPERATION = "POST /ingest/files"
#: The operations whose parameters no negative value can violate (a free-form path string, or no
#: parameters at all): schemathesis cannot generate a negative case for them.
NO_NEGATIVE = frozenset(
    {
        "GET /snos/{sno_id}",
        "GET /pairs/{pair_id}",
        "DELETE /documents/{document_id}",
        "GET /healthz",
        "GET /readyz",
    }
)


_POSITIVE, _NEGATIVE = GenerationMode.POSITIVE, GenerationMode.NEGATIVE
_PAST_INT64 = {"query": {"offset": 2**63}}  # was a 500: OverflowError binding OFFSET in SQLite
_LAST_INT64 = {"query": {"offset": 2**63 - 1}}  # the largest offset still answers (an empty page)
#: Requests that fuzzing found answered wrongly, replayed first on every run (hypothesis ``@example``),
#: keyed by operation and generation mode; the values are ``APIOperation.Case`` keyword arguments.
REGRESSIONS: dict[tuple[str, GenerationMode], list[dict[str, Any]]] = {
    **{(op, _NEGATIVE): [_PAST_INT64] for op in ("GET /snos", "GET /pairs", "GET /syntheses")},
    **{(op, _POSITIVE): [_LAST_INT64] for op in ("GET /snos", "GET /pairs", "GET /syntheses")},
    # a blank source was schema-valid but answered with an undocumented 400
    ("POST /ingest", _NEGATIVE): [{"body": {"source": " ", "text": "t"}, "media_type": "application/json"}],
    ("POST /ingest/batch", _NEGATIVE): [
        {"body": {"documents": [{"source": "s", "text": "\n"}]}, "media_type": "application/json"}
    ],
    ("GET /tasks/{task_id}", _POSITIVE): [{"path_parameters": {"task_id": "0"}}],  # undocumented 404
}


def header(response: Response, name: str) -> str:
    """One response header (case-insensitive); empty when absent."""
    values = {k.lower(): v for k, v in response.headers.items()}.get(name.lower()) or [""]
    return values[0]


def error_of(response: Response) -> dict[str, Any]:
    """The ``error`` object of a 4xx body, after checking the whole body has the canonical shape."""
    assert header(response, "content-type").startswith("application/json"), response.headers
    body = json.loads(response.content)
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert isinstance(error, dict) and set(error) == ERROR_KEYS, error
    assert error["status"] == response.status_code, (error["status"], response.status_code)
    assert isinstance(error["type"], str) and error["type"], error
    assert isinstance(error["message"], str) and error["message"], error
    assert isinstance(error["details"], list) and all(isinstance(d, dict) for d in error["details"]), error
    assert error["request_id"] and error["request_id"] == header(response, "x-request-id"), error
    return error


def client_error_is_expected(operation: str, status: int, error: dict[str, Any], *, auth: bool) -> bool:
    """May a schema-valid request get this 4xx? Only for reasons the schema cannot express."""
    if status == 404 and error["type"] == "not_found":
        return True  # an id that names nothing
    if status == 409 and error["type"] == "ambiguous_id":
        return True  # an id prefix that starts several ids (the jobs the fuzzing itself created)
    if status == 401 and auth:
        return True  # generated X-API-Key values are not keys
    if status == 422 and error["type"] == "idempotency_key_reused":
        return True  # the same generated key was sent earlier with another body
    if status == 422 and any(d.get("type") == "no_visible_text" for d in error.get("details", [])):
        return True  # text of only zero-width/combining characters: the schema cannot say "visible"
    if status == 422 and any(d.get("type") == "no_words" for d in error.get("details", [])):
        return True  # text of only punctuation, symbols or emoji: the schema cannot say "has a word"
    # an uploaded file whose bytes hold no document, or an empty file list (multipart has no "[]")
    return status == 422 and operation == FILES_OPERATION


@dataclass
class FuzzTally:
    """Examples sent and what came back, per operation; job ids the API accepted."""

    examples: Counter[str] = field(default_factory=Counter)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    created_jobs: list[str] = field(default_factory=list)
    replayed_jobs: set[str] = field(default_factory=set)

    def observe(self, operation: str, mode: GenerationMode, response: Response) -> None:
        self.examples[f"{operation} [{mode.value}]"] += 1
        self.statuses[(operation, response.status_code)] += 1
        if response.status_code != 202:
            return
        body = json.loads(response.content)
        for item in body.get("items", [body]):
            if item["created"]:
                self.created_jobs.append(item["job_id"])
            else:
                self.replayed_jobs.add(item["job_id"])

    @property
    def total(self) -> int:
        return sum(self.examples.values())

    def operations(self) -> set[str]:
        return {key.rsplit(" [", 1)[0] for key in self.examples}

    def accepted(self, operation: str) -> int:
        return sum(n for (op, status), n in self.statuses.items() if op == operation and status < 300)
