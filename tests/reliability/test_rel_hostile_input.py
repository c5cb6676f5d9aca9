"""R01, R02, R09: hostile or malformed input is rejected in the one error shape, and nothing is kept.

In-process API (TestClient) over a SQLite store and a recording publisher (``tests/api``): the
"queue" is the list of published messages, so "nothing enqueued" is exact.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.api.api_helpers import api_client
from tests.api.test_api_ingest import assert_error_shape
from tests.reliability.reliability_support import conservation, record

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(60)]

LIMITS = {"service": {"max_text_chars": 200, "max_batch_documents": 3}}
GOOD = {"source": "paper.txt", "text": "Plate tectonics moves continents slowly."}


def test_r01_malformed_json_is_422_json_invalid_and_nothing_is_kept(tmp_path: Path) -> None:
    with api_client(tmp_path) as (client, store, publisher):
        queued_before = len(publisher.sent)
        response = client.post(
            "/ingest", content=b'{"source": "s", "text": ', headers={"content-type": "application/json"}
        )
        assert response.status_code == 422
        error = assert_error_shape(response.json(), 422)
        assert error["details"][0]["type"] == "json_invalid" and error["details"][0]["loc"][0] == "body"
        assert store.list_jobs() == [] and store.list_documents() == []
        assert len(publisher.sent) == queued_before
        tally = conservation(store)
        record(
            "R01",
            "malformed JSON body (application/json)",
            f"422 json_invalid; {tally.jobs} job rows; queue length unchanged ({len(publisher.sent)})",
            lost=tally.lost,
            duplicated=tally.duplicated + tally.jobs,
        )


#: (case id, path, JSON body or raw bytes, expected status, expected loc of the first detail or None)
CASES: list[tuple[str, str, Any, int, list[Any] | None]] = [
    ("wrong type source", "/ingest", {"source": 3, "text": "t t"}, 422, ["body", "source"]),
    ("wrong type text", "/ingest", {"source": "s", "text": ["a"]}, 422, ["body", "text"]),
    ("wrong type metadata", "/ingest", {**GOOD, "metadata": "x"}, 422, ["body", "metadata"]),
    ("missing text", "/ingest", {"source": "s"}, 422, ["body", "text"]),
    ("missing source", "/ingest", {"text": "some text"}, 422, ["body", "source"]),
    ("not an object", "/ingest", ["source", "text"], 422, ["body"]),
    ("unknown field", "/ingest", {**GOOD, "evil": "x"}, 422, ["body", "evil"]),
    ("empty text", "/ingest", {"source": "s", "text": ""}, 400, ["body", "text"]),
    ("whitespace text", "/ingest", {"source": "s", "text": " \n\t "}, 400, ["body", "text"]),
    ("empty source", "/ingest", {"source": "", "text": "t t"}, 400, ["body", "source"]),
    ("text over max chars", "/ingest", {"source": "s", "text": "x" * 201}, 422, ["body", "text"]),
    ("batch over max docs", "/ingest/batch", {"documents": [GOOD] * 4}, 422, ["body", "documents"]),
    ("batch empty", "/ingest/batch", {"documents": []}, 422, ["body", "documents"]),
    ("invalid UTF-8", "/ingest", b'{"source": "s", "text": "\xff\xfe bad"}', 400, None),
]


@pytest.mark.parametrize(("case", "path", "body", "status", "loc"), CASES, ids=[c[0] for c in CASES])
def test_r02_schema_violations_get_the_error_shape_with_loc_and_persist_nothing(
    tmp_path: Path, case: str, path: str, body: Any, status: int, loc: list[Any] | None
) -> None:
    with api_client(tmp_path, **LIMITS) as (client, store, publisher):
        if isinstance(body, bytes):
            response = client.post(path, content=body, headers={"content-type": "application/json"})
        else:
            response = client.post(path, json=body)
        assert response.status_code == status, response.text
        error = assert_error_shape(response.json(), status)
        if loc is not None:
            assert error["details"] and error["details"][0]["loc"] == loc, error
        assert "x" * 201 not in response.text  # the offending input is never echoed back
        assert publisher.sent == [] and store.list_jobs() == [] and store.list_documents() == []
        tally = conservation(store)
        record(
            f"R02[{case}]",
            f"schema violation: {case}",
            f"{status} {error['type']} loc={error['details'][0]['loc'] if error['details'] else '-'}; "
            "nothing stored or enqueued",
            lost=tally.lost,
            duplicated=tally.duplicated + tally.jobs,
        )


def test_r09_unknown_task_id_is_404_in_the_error_shape_never_pending(tmp_path: Path) -> None:
    with api_client(tmp_path) as (client, store, _):
        for path in (f"/tasks/{uuid.uuid4().hex}", f"/jobs/{uuid.uuid4()}"):
            response = client.get(path)
            assert response.status_code == 404, response.text
            error = assert_error_shape(response.json(), 404)
            assert error["type"] == "not_found" and "PENDING" not in response.text
        too_long = client.get("/tasks/" + "a" * 65)
        assert too_long.status_code == 422 and assert_error_shape(too_long.json(), 422)
        tally = conservation(store)
        record(
            "R09",
            "GET /tasks/{random id}",
            "404 not_found in the error shape (never PENDING); over-long id → 422",
            lost=tally.lost,
            duplicated=tally.duplicated,
        )
