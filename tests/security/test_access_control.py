"""Who may read and write, and whose budget a request spends (rows S07–S09 of docs/reliability.md).

* S07: the rate limit bucketed on the *claimed* key id before the key was checked, so a client
  sending a fresh random ``X-API-Key`` per request was never limited (400 of 400 passed, each a
  401 attempt). Now unauthenticated and failed attempts share their address's bucket.
* S08: 150 requests with a real key's id and a wrong secret made the real key answer 429. Now a
  failed attempt never touches the verified key's bucket.
* S09: every read route answered without a key in the prod profile. Now reads need a key there
  (a ``read``-scope key is enough; it cannot write); ``/healthz`` and ``/metrics`` stay open.
"""

from __future__ import annotations

import secrets
from collections import Counter
from pathlib import Path

import pytest

from cns.services.apikeys import create_api_key
from tests.api.api_helpers import api_client
from tests.api.test_api_ingest import DOC, assert_error_shape
from tests.reliability.reliability_support import conservation, record

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(300)]
PROD = {"profile": "prod", "auth": {"enabled": True}}
READ_ROUTES = ["/snos", "/snos/s1", "/pairs", "/syntheses", "/tasks/t1", "/jobs/t1"]


def test_random_key_ids_do_not_escape_the_rate_limit(tmp_path: Path) -> None:
    with api_client(tmp_path, auth={"enabled": True}, service={"rate_limit_per_minute": 6}) as (
        client,
        store,
        publisher,
    ):
        statuses = Counter(
            client.post(
                "/ingest", json=DOC, headers={"X-API-Key": f"cnsk_{secrets.token_hex(8)}.x"}
            ).status_code
            for _ in range(60)
        )
        assert statuses[429] >= 45, statuses  # burst 1, 6/min: the rest is refused (even on a slow host)
        assert set(statuses) == {401, 429}, statuses
        assert publisher.sent == [] and store.list_jobs() == []
        check = conservation(store)
    record(
        "S07",
        "60 POST /ingest, each with a fresh random X-API-Key id (rate limit 6/min, burst 1)",
        f"{statuses[401]} × 401 then {statuses[429]} × 429: failed attempts share the client address's "
        "bucket (before: every request got a fresh bucket, 400 of 400 passed the limiter)",
        lost=check.lost,
        duplicated=check.duplicated + check.jobs,
    )


def test_wrong_secrets_for_a_real_key_id_do_not_lock_its_owner_out(tmp_path: Path) -> None:
    with api_client(tmp_path, auth={"enabled": True}, service={"rate_limit_per_minute": 6}) as (
        client,
        store,
        publisher,
    ):
        info, key = create_api_key(store, name="victim")
        forged = f"cnsk_{info.key_id}.{'A' * 43}"
        attack = Counter(client.get("/snos", headers={"X-API-Key": forged}).status_code for _ in range(150))
        assert attack[429] >= 130, attack
        victim = [client.post("/ingest", json=DOC, headers={"X-API-Key": key})]  # its burst is 1
        assert [r.status_code for r in victim] == [202], [r.text for r in victim]
        check = conservation(
            store, accepted=[r.json()["job_id"] for r in victim], published=publisher.job_ids
        )
    assert (check.lost, check.duplicated) == (0, 0), check
    record(
        "S08",
        "150 requests with a real key's id and a wrong secret, then a valid request with that key (6/min)",
        f"attacker: {attack[429]} × 429 on its own address; the key's owner: 202 "
        "(before: the owner got 429, its budget spent by the failed attempts)",
        lost=check.lost,
        duplicated=check.duplicated,
    )


def test_prod_reads_need_a_key_and_a_read_key_cannot_write(tmp_path: Path) -> None:
    with api_client(tmp_path, **PROD) as (client, store, publisher):
        _, reader = create_api_key(store, name="dashboard", scope="read")
        _, writer = create_api_key(store, name="ingester", scope="write")
        for route in READ_ROUTES:
            denied = client.get(route)
            assert denied.status_code == 401, (route, denied.text)
            assert assert_error_shape(denied.json(), 401)["type"] == "unauthorized"
            assert client.get(route, headers={"X-API-Key": reader}).status_code in (200, 404), route
        forbidden = client.post("/ingest", json=DOC, headers={"X-API-Key": reader})
        assert forbidden.status_code == 403 and "scope 'read'" in forbidden.json()["error"]["message"]
        assert client.delete("/documents/abc", headers={"X-API-Key": reader}).status_code == 403
        accepted = client.post("/ingest", json=DOC, headers={"X-API-Key": writer})
        assert accepted.status_code == 202
        assert client.get("/healthz").status_code == 200 and client.get("/metrics").status_code == 200
        assert len(publisher.sent) == 1
        check = conservation(store, accepted=[accepted.json()["job_id"]], published=publisher.job_ids)
    assert (check.lost, check.duplicated) == (0, 0), check
    record(
        "S09",
        "prod profile: the 6 read routes without a key; a read-scope key on reads, POST /ingest, DELETE",
        "401 without a key on every read; read key: reads 200/404, writes 403; write key: 202; "
        "/healthz and /metrics open (before: every read answered without a key)",
        lost=check.lost,
        duplicated=check.duplicated,
    )


def test_reads_stay_open_outside_prod_unless_configured(tmp_path: Path) -> None:
    with api_client(tmp_path, auth={"enabled": True}) as (client, _, _):
        assert client.get("/snos").status_code == 200
    with api_client(tmp_path / "b", auth={"enabled": True, "read_access": "key"}) as (client, _, _):
        assert client.get("/snos").status_code == 401
    with api_client(tmp_path / "c", profile="prod", auth={"enabled": True, "read_access": "open"}) as (
        client,
        _,
        _,
    ):
        assert client.get("/snos").status_code == 200
