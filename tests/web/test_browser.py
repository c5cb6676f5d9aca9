"""The interface in a real browser: Playwright driving Debian's Chromium against `cns ui`'s app.

The app is the single-machine one (local store, jobs run in-process, fake models) served by a
real uvicorn on 127.0.0.1 with auth on. One browser session walks the pages as an analyst would:
log in, look at the overview and a narrative, upload pasted text and watch its job finish, open
a pair and synthesize it now, and check that a document's ``<script>`` is shown as text (and
never runs). A read-only key then finds no write buttons.

Chromium comes from Debian (`make test` installs it when missing and the user is root);
Playwright's own browser download is never used. In CI a missing Chromium fails the test;
elsewhere it is skipped with the reason.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from cns.services.apikeys import create_api_key, revoke_api_key
from cns.web.local import local_app
from tests.web.web_helpers import HOSTILE_NAME, SCRIPT, copy_store, web_config

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
JOB_WAIT_MS = 30_000


def _chromium() -> str:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(
                f"{CHROMIUM} is required in CI: `make test` installs Debian's chromium when run as root"
            )
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium; `make test` does it as root)")
    return CHROMIUM


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(built_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`cns ui`'s app with auth on over a copy of the built store, served by uvicorn in a thread."""
    data = copy_store(built_store, tmp_path_factory.mktemp("browser") / "data")
    config = web_config(data, auth={"enabled": True})
    with local_app(config) as local:
        store = local.runtime.store
        _, writer = create_api_key(store, name="analyst")
        _, reader = create_api_key(store, name="reader", scope="read")
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(local.app, host="127.0.0.1", port=port, log_config=None))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started, "uvicorn did not start"
        try:
            yield {"url": f"http://127.0.0.1:{port}", "writer": writer, "reader": reader, "local": local}
        finally:
            server.should_exit = True
            thread.join(10)


@pytest.fixture(scope="module")
def browser(server: dict[str, Any]) -> Iterator[Any]:
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=executable, args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


def _login(browser: Any, url: str, key: str) -> Any:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(url + "/ui/narratives")
    assert "/ui/login" in page.url  # sent to the login form first
    page.fill("#api-key", key)
    page.click("#login-submit")
    page.wait_for_url(url + "/ui/narratives")
    return page


def test_an_analyst_logs_in_browses_uploads_and_synthesizes(browser: Any, server: dict[str, Any]) -> None:
    url = server["url"]
    page = _login(browser, url, server["writer"])
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    assert page.locator("#who").inner_text() == "analyst (write)"
    assert page.locator("#narratives-table tr").count() > 2

    page.goto(url + "/")
    assert int(page.locator("#count-pairs").inner_text()) >= 1
    assert page.locator("#histograms svg").count() == 4

    # upload a pasted text and watch its job finish
    page.goto(url + "/ui/upload")
    page.fill("#text-source", "browser-note.txt")
    page.fill(
        "#text-body",
        "We argue that glaciers carve valleys because ice grinds rock [1]. Thus valleys are U-shaped.",
    )
    page.click("#text-submit")
    job = page.locator("#upload-jobs li").first
    job.wait_for()
    page.wait_for_function(
        "() => ['SUCCESS','FAILURE'].includes(document.querySelector('#upload-jobs li').dataset.state)",
        timeout=JOB_WAIT_MS,
    )
    assert job.get_attribute("data-state") == "SUCCESS", job.inner_text()
    assert "browser-note.txt" in job.inner_text()
    job.locator("a.job-result").click()
    page.wait_for_url("**/ui/narratives/*")
    assert page.locator("#narrative-title").inner_text() == "browser-note.txt"

    # search for pairs now: the page watches the job and comes back to the list when it is done
    page.goto(url + "/ui/pairs")
    page.click("#find-pairs")
    page.wait_for_url("**/ui/pairs?job=*")
    page.wait_for_url("**/ui/pairs", timeout=JOB_WAIT_MS)
    assert page.locator("a.pair-link").count() >= 1

    # open a pair and synthesize it now
    page.locator("a.pair-link").first.click()
    page.wait_for_url("**/ui/pairs/*")
    before = page.locator("#attempts tr").count()
    page.click("#synthesize-now")
    page.wait_for_function(
        "() => document.querySelector('#synthesis-job').dataset.state === 'SUCCESS'", timeout=JOB_WAIT_MS
    )
    page.wait_for_load_state("load")
    page.wait_for_function(
        f"() => document.querySelectorAll('#attempts tr').length > {before}", timeout=JOB_WAIT_MS
    )
    page.locator("a.synthesis-link").first.click()
    page.wait_for_url("**/ui/narratives/*")
    assert page.locator("#acceptance").inner_text() in ("accepted", "rejected")
    assert page.locator("#provenance tr").count() > 1

    # a hostile document is shown as text and its script never runs
    page.goto(url + "/ui/narratives?q=hostile")
    page.locator("#narratives-table a").first.click()
    page.wait_for_url("**/ui/narratives/*")
    assert page.locator("#narrative-title").inner_text() == HOSTILE_NAME
    assert SCRIPT in page.locator("#document-text").inner_text()
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator("#document-text script, #document-text img, #document-text b").count() == 0
    assert dialogs == []
    page.context.close()


def test_a_read_only_key_has_no_write_buttons(browser: Any, server: dict[str, Any]) -> None:
    url = server["url"]
    page = _login(browser, url, server["reader"])
    assert page.locator("#nav-upload").count() == 0
    page.goto(url + "/ui/pairs")
    assert page.locator("#find-pairs").count() == 0
    page.locator("a.pair-link").first.click()
    page.wait_for_url("**/ui/pairs/*")
    assert page.locator("#synthesize-now").count() == 0
    page.goto(url + "/ui/upload")
    assert page.locator("#read-only").is_visible()
    page.context.close()


def test_an_analyst_asks_a_question_and_sees_where_the_corpus_disagrees(
    browser: Any, server: dict[str, Any]
) -> None:
    url = server["url"]
    page = _login(browser, url, server["reader"])  # asking only reads: a read-only key is enough
    page.click("#nav-ask")
    page.wait_for_url(url + "/ui/ask")
    page.fill("#ask-q", "Do continents drift across the mantle?")
    page.click("#ask-submit")
    page.wait_for_url("**/ui/ask?q=*")
    files = page.locator("#ask-narratives tr td:first-child a").all_inner_texts()
    assert files[0] == "fixed.txt" and "drift.md" in files
    first = page.locator("#disagreement-1")
    assert sorted(first.locator("h3").all_inner_texts()) == ["drift.md", "fixed.txt"]
    assert "recorded these two as a chiral pair" in first.inner_text()
    assert (
        "continents do not drift"
        in first.locator(".side-a, .side-b").all_inner_texts()[0]
        + (first.locator(".side-a, .side-b").all_inner_texts()[1])
    )
    assert "no LLM is configured" in page.locator("#answer-note").inner_text()
    first.locator("a[href^='/ui/pairs/']").click()  # on to the pair, side by side
    page.wait_for_url("**/ui/pairs/*")
    assert page.locator("#side-A").is_visible() and page.locator("#side-B").is_visible()
    page.goto(url + "/ui/ask?q=%20")
    assert "The question is empty" in page.locator("#ask-problem").inner_text()
    page.context.close()


def test_a_login_lost_while_a_job_is_watched_says_log_in_again(browser: Any, server: dict[str, Any]) -> None:
    store = server["local"].runtime.store
    info, key = create_api_key(store, name="expiring")
    url = server["url"]
    page = _login(browser, url, key)
    page.goto(url + "/ui/upload")
    revoked: list[str] = []

    def revoke_then_ask(route: Any) -> None:  # the login ends between the upload and its first poll
        if not revoked:
            revoke_api_key(store, info.key_id)
            revoked.append(route.request.url)
        route.continue_()

    page.route("**/ui/jobs/**", revoke_then_ask)
    page.fill("#text-source", "expiring-note.txt")
    page.fill(
        "#text-body", "We argue that rivers cut canyons because water erodes rock. Thus canyons deepen."
    )
    page.click("#text-submit")
    job = page.locator("#upload-jobs li").first
    page.wait_for_function("() => document.querySelector('#upload-jobs li')?.dataset.state === 'LOGIN'")
    assert revoked and "log in again" in job.inner_text()
    job.locator("a.login-again").click()
    page.wait_for_url("**/ui/login?next=%2Fui%2Fupload")
    page.fill("#api-key", server["writer"])
    page.click("#login-submit")
    page.wait_for_url(url + "/ui/upload")  # back where the job was watched
    page.context.close()


def test_api_docs_render_without_internet(browser: Any, server: dict[str, Any]) -> None:
    page = browser.new_page()
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(server["url"]) else outside.append(r.url))
    page.goto(server["url"] + "/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=15_000)
    assert page.locator(".opblock").count() >= 10
    assert outside == []
    page.close()


def test_a_missing_chromium_fails_in_ci_and_skips_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    import tests.web.test_browser as module

    monkeypatch.setattr(module, "CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="required in CI"):
        module._chromium()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        module._chromium()
