"""Auth (hashed API keys), the body-size limit (413) and the per-process rate limit (429)."""

from __future__ import annotations

from pathlib import Path

from cns.api.ratelimit import RateLimiter
from cns.services.apikeys import create_api_key, list_api_keys, revoke_api_key, verify_api_key
from tests.api.api_helpers import api_client
from tests.api.test_api_ingest import DOC, assert_error_shape


def test_api_keys_are_hashed_verified_and_revocable(tmp_path: Path) -> None:
    with api_client(tmp_path) as (_, store, _):
        info, key = create_api_key(store, name="ci")
        assert key.startswith(f"cnsk_{info.key_id}.")
        secret = key.split(".", 1)[1]
        with store.engine.connect() as conn:
            row = conn.exec_driver_sql("SELECT salt, digest FROM api_keys").one()
        assert secret not in row[0] + row[1]
        assert verify_api_key(store, key) == info
        assert verify_api_key(store, key[:-1] + ("A" if key[-1] != "A" else "B")) is None
        assert verify_api_key(store, "cnsk_unknown.secret") is None and verify_api_key(store, None) is None
        assert revoke_api_key(store, info.key_id) is not None
        assert verify_api_key(store, key) is None and not list_api_keys(store)[0].active


def test_write_routes_need_a_key_when_auth_is_enabled(tmp_path: Path) -> None:
    with api_client(tmp_path, auth={"enabled": True}) as (client, store, publisher):
        _, key = create_api_key(store, name="writer")
        denied = client.post("/ingest", json=DOC)
        assert denied.status_code == 401 and assert_error_shape(denied.json(), 401)["type"] == "unauthorized"
        wrong = client.post("/ingest", json=DOC, headers={"X-API-Key": key + "x"})
        assert wrong.status_code == 401 and key not in wrong.text
        assert client.post("/ingest", json=DOC, headers={"X-API-Key": key}).status_code == 202
        assert client.get("/snos").status_code == 200  # reads stay open
        assert client.delete("/documents/abc").status_code == 401
        assert len(publisher.sent) == 1


def test_declared_and_streamed_bodies_over_the_limit_get_413(tmp_path: Path) -> None:
    with api_client(tmp_path, service={"max_body_bytes": 2048}) as (client, store, _):
        big = {"source": "s", "text": "x" * 4000}
        declared = client.post("/ingest", json=big)
        assert declared.status_code == 413
        assert assert_error_shape(declared.json(), 413)["type"] == "payload_too_large"

        def chunks():
            for _ in range(10):
                yield b"x" * 1000

        streamed = client.post("/ingest", content=chunks(), headers={"content-type": "application/json"})
        assert streamed.status_code == 413
        assert client.post("/ingest", json={"source": "s", "text": "fits."}).status_code == 202
        assert len(store.list_jobs()) == 1


def test_rate_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    # 10 per minute: a burst of one and a new token only every 6 s, so the second request is limited
    # however slow the machine is (the burst and refill arithmetic is tested with a fake clock below)
    with api_client(tmp_path, service={"rate_limit_per_minute": 10}) as (client, _, _):
        statuses = [client.get("/snos").status_code for _ in range(2)]
        assert statuses == [200, 429]
        limited = client.get("/snos")
        assert int(limited.headers["retry-after"]) >= 1
        assert assert_error_shape(limited.json(), 429)["type"] == "rate_limited"
        assert client.get("/healthz").status_code == 200  # probes are never limited


def test_token_bucket_refills_and_keys_are_independent() -> None:
    now = [0.0]
    limiter = RateLimiter(60, burst=2, clock=lambda: now[0])
    assert [limiter.acquire("a") for _ in range(3)] == [0.0, 0.0, 1.0]
    assert limiter.acquire("b") == 0.0
    now[0] = 1.0
    assert limiter.acquire("a") == 0.0
    assert RateLimiter(0).acquire("a") == 0.0 and not RateLimiter(0).enabled
