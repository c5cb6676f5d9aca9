"""Regressions of the API bugs that fuzzing (and the probes it prompted) found, replayed in-process.

* JSON can carry NUL, unpaired surrogates and (in Python's parser) NaN/Infinity; they used to be
  a 500 (SQLite cannot encode a surrogate) or, on PostgreSQL, a 503 "retry later" for a request
  that can never succeed. Now a 422 naming the field, with nothing stored or enqueued.
* A NUL in a path id or the ``source`` filter reached PostgreSQL (a 503/500); no stored value
  can hold one, so it is now a 404 (or an empty page) without a query.
* A JSONL upload whose ``source`` is over 2000 characters was a 500; now a 422 entry for the file.
* A 500 said ``"request_id": null`` and had no X-Request-ID header; now both carry the id.
* The OpenAPI document described 422 bodies as ``{"detail": [...]}`` and left 400/401/404/413/429/503
  out; now every documented 4xx is the one error shape.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from cns.api import errors
from cns.api.stored import NOT_BLANK
from cns.store.sql import SQLStore
from tests.api.api_helpers import api_client
from tests.api.test_api_ingest import assert_error_shape
from tests.reliability.reliability_support import conservation, record

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(60)]
JSON = {"content-type": "application/json"}
PG_503 = "202 on SQLite; on PostgreSQL 503 'retry later' for a request that can never succeed"

#: (case, raw JSON body, field named in loc, what the API did before)
UNSTORABLE_BODIES: list[tuple[str, bytes, str, str]] = [
    ("unpaired surrogate in text", b'{"source": "s", "text": "a\\ud800b"}', "text", "500 (UnicodeEncodeError)"),
    ("unpaired surrogate in source", b'{"source": "s\\udfff", "text": "ab"}', "source", "422 (pydantic)"),
    ("NUL in text", b'{"source": "s", "text": "a\\u0000b"}', "text", PG_503),
    ("NUL in source", b'{"source": "s\\u0000", "text": "ab"}', "source", PG_503),
    ("NaN in metadata", b'{"source": "s", "text": "ab", "metadata": {"x": NaN}}', "metadata", PG_503),
    ("Infinity in metadata", b'{"source": "s", "text": "ab", "metadata": {"x": [-Infinity]}}', "metadata", PG_503),
    ("1e999 in metadata", b'{"source": "s", "text": "ab", "metadata": {"x": 1e999}}', "metadata", PG_503),
    ("NUL in a metadata key", b'{"source": "s", "text": "ab", "metadata": {"k\\u0000": 1}}', "metadata", PG_503),
    (
        "surrogate in metadata",
        b'{"source": "s", "text": "ab", "metadata": {"a": {"b": "\\ud800"}}}',
        "metadata",
        "500 (UnicodeEncodeError)",
    ),
    (
        "metadata nested 100 deep",
        b'{"source": "s", "text": "ab", "metadata": ' + b'{"a":' * 100 + b"1" + b"}" * 101,
        "metadata",
        "202 at any depth; the limit came with typing metadata as StoredJson",
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "body", "field", "before"), UNSTORABLE_BODIES, ids=[c[0] for c in UNSTORABLE_BODIES]
)
def test_unstorable_values_are_a_422_naming_the_field(
    tmp_path: Path, case: str, body: bytes, field: str, before: str
) -> None:
    with api_client(tmp_path) as (client, store, publisher):
        response = client.post("/ingest", content=body, headers=JSON)
        assert response.status_code == 422, (case, response.text)
        error = assert_error_shape(response.json(), 422)
        assert error["details"][0]["loc"] == ["body", field], error
        batch = json.loads(body.replace(b"NaN", b"0").replace(b"Infinity", b"0").replace(b"1e999", b"0"))
        if field != "metadata":  # the same values inside a batch, with the document's index in loc
            documents = json.dumps({"documents": [{"source": "ok", "text": "ok"}, batch]}).encode()
            response = client.post("/ingest/batch", content=documents, headers=JSON)
            assert response.status_code == 422, response.text
            loc = assert_error_shape(response.json(), 422)["details"][0]["loc"]
            assert loc == ["body", "documents", 1, field]
        assert publisher.sent == [] and store.list_jobs() == [] and store.list_documents() == []
        tally = conservation(store)
    record(
        f"hostile[{case}]",
        f"POST /ingest and /ingest/batch with {case} (valid JSON the store cannot keep)",
        f"422 loc=body.{field}, nothing stored or enqueued (before: {before})",
        lost=tally.lost,
        duplicated=tally.duplicated + tally.jobs,
    )


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/snos/a%00b", 404),
        ("GET", "/tasks/a%00b", 404),
        ("DELETE", "/documents/a%00b", 404),
        ("POST", "/pairs/a%00b/synthesize", 404),
        ("GET", "/snos?source=a%00b", 200),
    ],
)
def test_a_nul_id_or_filter_matches_nothing_without_asking_the_database(
    tmp_path: Path, method: str, path: str, status: int
) -> None:
    """A NUL made PostgreSQL fail the query (503, or 500 for the filter); no stored value has one."""
    with api_client(tmp_path) as (client, store, _):
        with _no_queries(store):
            response = client.request(method, path)
        assert response.status_code == status, response.text
        if status == 404:
            assert assert_error_shape(response.json(), 404)["type"] == "not_found"
        else:
            assert response.json()["items"] == [] and response.json()["total"] == 0


@contextmanager
def _no_queries(store: SQLStore) -> Iterator[None]:
    """Fail on any SQL statement sent while the block runs."""
    statements: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", before)
    try:
        yield
    finally:
        event.remove(store.engine, "before_cursor_execute", before)
    assert statements == [], statements


def test_jsonl_upload_with_an_overlong_source_is_a_422_entry_not_a_500(tmp_path: Path) -> None:
    line = json.dumps({"text": "A claim about rocks.", "source": "s" * 3000})
    with api_client(tmp_path) as (client, store, publisher):
        response = client.post("/ingest/files", files=[("files", ("docs.jsonl", line.encode()))])
        assert response.status_code == 422, response.text
        (detail,) = assert_error_shape(response.json(), 422)["details"]
        assert detail["type"] == "unusable_file" and "at most 2000 characters" in detail["msg"]
        assert publisher.sent == [] and store.list_jobs() == []


class _ExplodingPublisher:
    """A publisher failing in a way no handler expects: the request must end in the generic 500."""

    def publish(self, task_name: str, *args: str, task_id: str | None = None) -> None:
        raise RuntimeError("unexpected failure inside the broker client")


class _RecordingLog:
    """Stands in for the errors module's logger (the dev renderer draws a rich traceback: seconds)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def error(self, event: str, **fields: Any) -> None:
        self.events.append((event, fields))


def test_an_unexpected_500_carries_the_request_id_in_body_header_and_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _RecordingLog()
    monkeypatch.setattr(errors, "log", log)
    with api_client(tmp_path) as (client, _, _):
        client.app.state.services.publisher = _ExplodingPublisher()  # type: ignore[attr-defined]
        response = client.post(
            "/ingest", json={"source": "s", "text": "t"}, headers={"X-Request-ID": "req-42"}
        )
        assert response.status_code == 500
        error = assert_error_shape(response.json(), 500)
        assert error["request_id"] == "req-42" == response.headers["x-request-id"]
        assert error["message"] == "internal server error" and "broker client" not in response.text
    [(event, fields)] = log.events
    assert event == "api.unhandled_error" and fields["request_id"] == "req-42"
    assert fields["error"] == "RuntimeError"


def _error_refs(operation: dict[str, Any]) -> dict[str, str]:
    """status → the JSON of its documented content, for every 4xx and the 503."""
    return {
        status: json.dumps(response.get("content", {}))
        for status, response in operation["responses"].items()
        if status.startswith("4") or status == "503"
    }


def test_openapi_documents_every_4xx_as_the_error_shape(tmp_path: Path) -> None:
    with api_client(tmp_path) as (client, _, _):
        spec = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in json.dumps(spec)
    operations = {f"{m.upper()} {p}": op for p, ops in spec["paths"].items() for m, op in ops.items()}
    del operations["GET /readyz"]  # its 503 is the health report, not an error
    for label, operation in operations.items():
        refs = _error_refs(operation)
        assert all("#/components/schemas/ErrorBody" in ref for ref in refs.values()), (label, refs)
        if label.startswith(("POST", "DELETE")):
            assert {"400", "401", "413", "422", "429", "503"} <= set(refs), (label, sorted(refs))
    for label in ("GET /tasks/{task_id}", "GET /snos/{sno_id}", "DELETE /documents/{document_id}"):
        assert "404" in _error_refs(operations[label]), label
    error_schema = spec["components"]["schemas"]["ErrorInfo"]
    assert set(error_schema["required"]) == {"status", "type", "message", "details", "request_id"}


def test_documented_blank_pattern_is_exactly_pythons_whitespace() -> None:
    """The pattern tells clients what the routes' ``str.strip()`` check answers with a 400."""
    pattern = re.compile(NOT_BLANK["pattern"])
    differs = [hex(c) for c in range(0x110000) if bool(pattern.search(chr(c))) == chr(c).isspace()]
    assert differs == []
