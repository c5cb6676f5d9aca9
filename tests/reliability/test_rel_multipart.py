"""R05: multipart limits (Starlette's ``max_files``, ``max_fields``, ``max_part_size``) give 400 with a
message in the error shape, store nothing, and leave no spooled temp file open."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.api.api_helpers import api_client
from tests.api.test_api_ingest import assert_error_shape
from tests.reliability.reliability_support import conservation, record

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(60)]

BIG_FILE = (
    "files",
    ("big.txt", b"Words and more words. " * 100_000, "text/plain"),
)  # ~2.2 MB: spooled to disk
SMALL = ("files", ("a.txt", b"Plain words here. More words.", "text/plain"))

CASES: list[tuple[str, dict[str, Any], str]] = [
    ("more than 1000 files", {"files": [("files", (f"f{i}.txt", b"Text.", "text/plain")) for i in range(1001)]},
     "Too many files"),
    ("more than 1000 fields", {"files": [BIG_FILE], "data": {f"k{i}": "v" for i in range(1001)}}, "Too many fields"),
    ("a field over 1 MiB", {"files": [BIG_FILE], "data": {"big": "x" * (2**20 + 1)}}, "exceeded maximum size"),
]  # fmt: skip


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.parametrize(("case", "parts", "message"), CASES, ids=[c[0] for c in CASES])
def test_r05_multipart_limits_are_400_with_a_message(
    tmp_path: Path, case: str, parts: dict[str, Any], message: str
) -> None:
    with api_client(tmp_path) as (client, store, publisher):
        client.post("/ingest/files", files=[SMALL])  # warm up: connections and lazily opened files
        fds = open_fds()
        response = client.post("/ingest/files", **parts)
        assert response.status_code == 400, response.text
        error = assert_error_shape(response.json(), 400)
        assert message in error["message"]
        assert open_fds() == fds  # every spooled upload was closed (and so deleted)
        assert len(store.list_jobs()) == len(publisher.sent) == 1  # only the warm-up document
        tally = conservation(store, [m[1][0] for m in publisher.sent], [m[1][0] for m in publisher.sent])
    record(
        f"R05[{case}]",
        f"multipart upload with {case}",
        f"400 bad_request '{error['message']}'; no job stored; open file descriptors unchanged ({fds})",
        lost=tally.lost,
        duplicated=tally.duplicated + tally.jobs - 1,
    )
