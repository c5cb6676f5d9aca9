"""A database outage answers 503 ("retry later") on every route that reads the store, never 500.

Two outages: a PostgreSQL server that is not there (the store's engine points at a closed port)
and a SQLite file that vanished under a running API (its path is now a folder). Every read route
— single SNOs and the paged lists of SNOs, pairs and syntheses — and the API-key check (in the
rate limiter and in the route dependency) go through the store's error translation, so the client
sees the same 503 with ``Retry-After`` whichever of them hit the database first.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cns.api import create_app
from cns.store.sql import SQLStore
from cns.store.sql.engine import make_engine
from tests.api.api_helpers import RecordingPublisher, config_for
from tests.api.test_api_ingest import assert_error_shape

KEY = "cnsk_0123456789abcdef.not-a-real-secret"
READS = ("/snos", "/snos/abc", "/pairs", "/syntheses", "/tasks/abc")


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def postgres_gone(_tmp_path: Path) -> SQLStore:
    """A store whose PostgreSQL server does not answer (nothing listens on the port)."""
    return SQLStore(make_engine(f"postgresql+psycopg://cns@127.0.0.1:{closed_port()}/cns"))


def sqlite_gone(tmp_path: Path) -> SQLStore:
    """A working SQLite store whose file then disappears (a folder now holds its path)."""
    path = tmp_path / "db" / "cns.sqlite3"
    store = SQLStore.open(path)
    store.put_document("A document stored before the outage.")
    store.engine.dispose()  # pooled connections would still reach the unlinked file
    shutil.rmtree(path.parent)
    path.mkdir(parents=True)
    return store


OUTAGES: dict[str, Callable[[Path], SQLStore]] = {"postgresql": postgres_gone, "sqlite": sqlite_gone}


@contextmanager
def client_without_database(tmp_path: Path, outage: str, **overrides: Any) -> Iterator[TestClient]:
    store = OUTAGES[outage](tmp_path)
    app = create_app(config_for(tmp_path, **overrides), store=store, publisher=RecordingPublisher())
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client
    finally:
        store.close()


def assert_unavailable(response: Any) -> None:
    assert response.status_code == 503, (response.request.url, response.status_code, response.text)
    assert assert_error_shape(response.json(), 503)["type"] == "service_unavailable"
    assert response.headers["retry-after"] == "5"
    assert "the database is unavailable" in response.json()["error"]["message"]


@pytest.mark.parametrize("outage", sorted(OUTAGES))
def test_every_read_route_answers_503_while_the_database_is_down(tmp_path: Path, outage: str) -> None:
    with client_without_database(tmp_path, outage) as client:
        for path in READS:
            assert_unavailable(client.get(path))
        assert client.get("/readyz").status_code == 503
        assert client.get("/healthz").status_code == 200  # the process itself is alive


@pytest.mark.parametrize("outage", sorted(OUTAGES))
@pytest.mark.parametrize("rate_limit", [0, 600], ids=["route-dependency", "rate-limiter"])
def test_an_api_key_check_answers_503_while_the_database_is_down(
    tmp_path: Path, outage: str, rate_limit: int
) -> None:
    overrides = {"auth": {"enabled": True}, "service": {"rate_limit_per_minute": rate_limit}}
    with client_without_database(tmp_path, outage, **overrides) as client:
        assert_unavailable(client.get("/snos", headers={"X-API-Key": KEY}))
        assert_unavailable(
            client.post("/ingest", json={"source": "s", "text": "x."}, headers={"X-API-Key": KEY})
        )
