"""With auth on the pages need a key: login cookie, CSRF on every POST, read-only keys cannot write."""

from __future__ import annotations

from pathlib import Path

from cns.services.apikeys import create_api_key, revoke_api_key
from cns.services.job_kinds import SEARCH_PAIRS
from cns.web.session import COOKIE, csrf_token
from tests.web.web_helpers import csrf_of, web_client

AUTH = {"auth": {"enabled": True}}


def _login(client, key: str, next_url: str = "/") -> object:  # type: ignore[no-untyped-def]
    form = client.get("/ui/login", params={"next": next_url})
    return client.post("/ui/login", data={"api_key": key, "csrf_token": csrf_of(form.text), "next": next_url})


def test_pages_redirect_to_the_login_and_a_valid_key_opens_them(data_dir: Path) -> None:
    with web_client(data_dir, **AUTH) as (client, store, _):
        _, key = create_api_key(store, name="analyst")
        first = client.get("/ui/pairs?page=1")
        assert first.status_code == 303
        assert first.headers["location"] == "/ui/login?next=%2Fui%2Fpairs%3Fpage%3D1"
        status = client.get("/ui/jobs/x")  # the job status needs the login too, and says so in JSON
        assert status.status_code == 401 and status.json()["error"]["type"] == "login_required"
        wrong = _login(client, "cns_nothing.wrong")
        assert wrong.status_code == 401 and 'id="login-error"' in wrong.text
        done = _login(client, key, "/ui/pairs?page=1")
        assert done.status_code == 303 and done.headers["location"] == "/ui/pairs?page=1"
        cookie = done.headers["set-cookie"]
        assert f"{COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert "Secure" not in cookie  # plain http here
        page = client.get("/ui/pairs")
        assert page.status_code == 200 and "analyst (write)" in page.text


def test_the_cookie_is_secure_behind_https(data_dir: Path) -> None:
    with web_client(data_dir, base_url="https://testserver", **AUTH) as (client, store, _):
        _, key = create_api_key(store, name="analyst")
        assert "Secure" in _login(client, key).headers["set-cookie"]


def test_login_refuses_a_form_without_its_csrf_token_and_foreign_redirects(data_dir: Path) -> None:
    with web_client(data_dir, **AUTH) as (client, store, _):
        _, key = create_api_key(store, name="analyst")
        client.get("/ui/login")
        assert client.post("/ui/login", data={"api_key": key, "csrf_token": "0" * 64}).status_code == 403
        away = _login(client, key, "//evil.example/")
        assert away.headers["location"] == "/"


def test_every_write_needs_the_csrf_token_of_this_session(data_dir: Path) -> None:
    with web_client(data_dir, **AUTH) as (client, store, publisher):
        _, key = create_api_key(store, name="analyst")
        _login(client, key)
        token = csrf_of(client.get("/ui/upload").text)
        assert token == csrf_token(key)  # tied to the session cookie
        pair_id = store.list_pairs()[0].pair_id
        body = {"source": "a.txt", "text": "We argue that sand moves."}
        for headers in ({}, {"X-CSRF-Token": "f" * 64}, {"X-CSRF-Token": csrf_token("another session")}):
            refused = client.post("/ui/upload/text", data=body, headers=headers)
            assert refused.status_code == 403, headers
            assert "CSRF" in refused.json()["error"]["message"]
        assert client.post(f"/ui/pairs/{pair_id}/synthesize").status_code == 403
        assert client.post("/ui/find-pairs", data={"csrf_token": "x"}).status_code == 403
        assert publisher.sent == []
        ok = client.post("/ui/upload/text", data=body, headers={"X-CSRF-Token": token})
        assert ok.status_code == 202
        synth = client.post(f"/ui/pairs/{pair_id}/synthesize", data={"csrf_token": token})
        assert synth.status_code == 303 and synth.headers["location"].startswith(f"/ui/pairs/{pair_id}?job=")
        search = client.post("/ui/find-pairs", data={"csrf_token": token})
        assert search.status_code == 303 and search.headers["location"].startswith("/ui/pairs?job=")
        search_job = search.headers["location"].split("job=")[1]
        job = store.get_job(search_job)
        assert job is not None and job.kind == "pair_search"
        assert 'data-job-id="' + search_job + '"' in client.get(search.headers["location"]).text
        assert [name for name, _ in publisher.sent] == [
            "cns.process_ingestion",
            "cns.synthesize_pair",
            SEARCH_PAIRS,
        ]


def test_a_read_only_key_sees_no_write_buttons_and_is_refused(data_dir: Path) -> None:
    with web_client(data_dir, **AUTH) as (client, store, publisher):
        _, key = create_api_key(store, name="reader", scope="read")
        _login(client, key)
        pair_id = store.list_pairs()[0].pair_id
        page = client.get(f"/ui/pairs/{pair_id}")
        assert page.status_code == 200 and "reader (read)" in page.text
        assert 'id="synthesize-now"' not in page.text and 'id="nav-upload"' not in page.text
        assert 'id="find-pairs"' not in client.get("/ui/pairs").text
        assert 'id="read-only"' in client.get("/ui/upload").text
        token = csrf_of(page.text)
        refused = client.post(f"/ui/pairs/{pair_id}/synthesize", data={"csrf_token": token})
        assert refused.status_code == 403 and "read-only" in refused.json()["error"]["message"]
        upload = client.post(
            "/ui/upload/text", data={"source": "a.txt", "text": "x y z"}, headers={"X-CSRF-Token": token}
        )
        assert upload.status_code == 403
        assert publisher.sent == []


def test_a_revoked_key_is_logged_out_and_logout_clears_the_cookie(data_dir: Path) -> None:
    with web_client(data_dir, **AUTH) as (client, store, _):
        info, key = create_api_key(store, name="analyst")
        _login(client, key)
        token = csrf_of(client.get("/").text)
        out = client.post("/ui/logout", data={"csrf_token": token})
        assert out.status_code == 303 and f'{COOKIE}=""' in out.headers["set-cookie"]
        assert client.get("/").status_code == 303
        _login(client, key)
        assert client.get("/").status_code == 200
        revoke_api_key(store, info.key_id)
        assert client.get("/").status_code == 303


def test_with_auth_off_forms_still_need_the_csrf_token(data_dir: Path) -> None:
    with web_client(data_dir) as (client, _, publisher):
        page = client.get("/ui/upload")
        assert page.status_code == 200 and f"{COOKIE}=anon." in page.headers["set-cookie"]
        body = {"source": "a.txt", "text": "We argue that sand moves."}
        assert client.post("/ui/upload/text", data=body).status_code == 403
        ok = client.post("/ui/upload/text", data=body, headers={"X-CSRF-Token": csrf_of(page.text)})
        assert ok.status_code == 202 and len(publisher.sent) == 1


def test_upload_errors_are_the_api_error_bodies(data_dir: Path) -> None:
    with web_client(data_dir) as (client, _, publisher):
        token = csrf_of(client.get("/ui/upload").text)
        headers = {"X-CSRF-Token": token}
        symbols = client.post("/ui/upload/text", data={"source": "a.txt", "text": "!!! ???"}, headers=headers)
        assert symbols.status_code == 422
        assert "no words" in symbols.json()["error"]["message"]
        files = client.post(
            "/ui/upload/files",
            files=[("files", ("x.bin", b"\x00\x01\x02" * 100, "application/octet-stream"))],
            headers=headers,
        )
        assert files.status_code == 422
        assert files.json()["error"]["details"][0]["msg"] == "binary content; unsupported file type"
        good = client.post(
            "/ui/upload/files",
            files=[("files", ("n.md", b"# N\n\nWe argue that tides move sand.", "text/markdown"))],
            headers=headers,
        )
        assert good.status_code == 202 and len(good.json()["items"]) == 1
        assert len(publisher.sent) == 1


def test_a_lost_login_answers_the_pages_scripts_with_a_401_not_a_login_page(data_dir: Path) -> None:
    with web_client(data_dir, **AUTH) as (client, store, _):
        info, key = create_api_key(store, name="analyst")
        _login(client, key)
        token = csrf_of(client.get("/ui/upload").text)
        job_id = client.post(
            "/ui/upload/text", data={"source": "a.txt", "text": "We argue that sand moves."},
            headers={"X-CSRF-Token": token, "Accept": "application/json"},
        ).json()["job_id"]  # fmt: skip
        assert client.get(f"/ui/jobs/{job_id}").status_code == 200
        revoke_api_key(store, info.key_id)  # the login is gone, as when the cookie expires
        polled = client.get(f"/ui/jobs/{job_id}", headers={"Accept": "application/json"})
        upload = client.post(
            "/ui/upload/text", data={"source": "b.txt", "text": "We argue that sand stays."},
            headers={"X-CSRF-Token": token, "Accept": "application/json"},
        )  # fmt: skip
        navigation = client.get("/ui/upload")
    for answer in (polled, upload):
        assert answer.status_code == 401 and answer.headers["content-type"] == "application/json"
        error = answer.json()["error"]
        assert error["type"] == "login_required" and error["message"].endswith("log in again")
        assert error["details"] == [{"login": "/ui/login"}]
    assert navigation.status_code == 303 and navigation.headers["location"].startswith("/ui/login?next=")
