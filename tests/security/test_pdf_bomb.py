"""S14: a PDF bomb uploaded to a real ``cns serve`` (row S14 of docs/reliability.md).

Before: an 8 KB, 20-page PDF whose pages share one compressed content stream was parsed in the
API process for 79 s (+128 MiB) before a 422, holding the interpreter lock meanwhile, and an 8 KB
text bomb became a 26.8 M-character document after 33 s (+333 MiB). Now PDF, HTML and Markdown uploads are
parsed in a parser process under the ``loaders`` limits: the parse is killed at
``loaders.parse_timeout_seconds`` (422 naming it), a text bomb stops at ``loaders.max_chars``,
``/healthz`` keeps answering meanwhile, and an upload that finds every parser busy gets 503 with
Retry-After instead of queueing.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.ingestion.ingest_helpers import make_pdf_bomb, make_text_pdf
from tests.reliability.rel_service import stack_store
from tests.reliability.reliability_support import conservation, record
from tests.service.service_harness import service_stack

pytestmark = [pytest.mark.reliability, pytest.mark.integration, pytest.mark.timeout(600)]
TIMEOUT = 10.0  # the text bomb needs ~2 s on a quiet machine (5+ s under load) to cross max_chars on page 1


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class HealthPoller:
    """GET /healthz every 50 ms in a thread; keeps the slowest answer time."""

    def __init__(self, url: str) -> None:
        self.url, self.worst, self.calls, self.failures = url, 0.0, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self._stop.is_set():
                start = time.perf_counter()
                ok = client.get(self.url).status_code == 200
                self.worst = max(self.worst, time.perf_counter() - start)
                self.calls += 1
                self.failures += not ok
                time.sleep(0.05)

    def __enter__(self) -> HealthPoller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)


def _upload(client: httpx.Client, name: str, data: bytes) -> tuple[httpx.Response, float]:
    start = time.perf_counter()
    response = client.post("/ingest/files", files={"files": (name, data, "application/pdf")})
    return response, time.perf_counter() - start


def test_pdf_bomb_upload_is_killed_at_the_limit_and_the_api_keeps_answering(tmp_path: Path) -> None:
    slow = make_pdf_bomb(pages=20, repeats=200_000, draw_text=False)  # ~90 s of parsing, no text
    text_bomb = make_pdf_bomb(pages=20, repeats=20_000)  # 1.3 M characters per page
    good = make_text_pdf(["Coffee improves focus because caffeine blocks adenosine receptors."])
    env = {"CNS_LOADERS__PARSE_TIMEOUT_SECONDS": str(TIMEOUT), "CNS_LOADERS__PARSERS": "1"}
    with service_stack(tmp_path, **env) as stack:
        stack.start_api(wait_seconds=180)
        api_pid = stack.procs["api"].pid
        with httpx.Client(base_url=stack.api_url, timeout=120) as client:
            warm, _ = _upload(client, "good.pdf", good)  # starts the parser process
            assert warm.status_code == 202, warm.text
            rss_before = _rss_mib(api_pid)
            busy: list[httpx.Response] = []

            def second_upload() -> None:
                time.sleep(1.0)  # while the bomb holds the only parser
                with httpx.Client(base_url=stack.api_url, timeout=60) as other:
                    busy.append(_upload(other, "other.pdf", good)[0])

            with HealthPoller(stack.api_url + "/healthz") as health:
                side = threading.Thread(target=second_upload)
                side.start()
                answer, seconds = _upload(client, "bomb.pdf", slow)
                side.join(60)
            rss_after = _rss_mib(api_pid)
            chars, chars_seconds = _upload(client, "text-bomb.pdf", text_bomb)
        with stack_store(stack) as store:
            check = conservation(store)
    assert answer.status_code == 422, answer.text
    detail = answer.json()["error"]["details"][0]
    assert detail["loc"] == ["body", "files", "bomb.pdf"]
    assert "loaders.parse_timeout_seconds" in detail["msg"], detail
    assert seconds < TIMEOUT + 5, seconds
    assert busy and busy[0].status_code == 503, busy and busy[0].text
    assert busy[0].headers["Retry-After"] == "5" and "loaders.parsers" in busy[0].json()["error"]["message"]
    assert health.failures == 0 and health.calls >= 10 and health.worst < 1.0, (health.calls, health.worst)
    assert chars.status_code == 422 and "loaders.max_chars" in chars.json()["error"]["details"][0]["msg"]
    assert check.jobs == 1  # only the good warm-up PDF was accepted
    record(
        "S14",
        f"POST /ingest/files with an {len(slow) // 1024} KB, 20-page PDF whose pages share one compressed "
        f"content stream (79 s to parse in-process), an {len(text_bomb) // 1024} KB text bomb (27 M characters), and "
        "a second upload meanwhile (real uvicorn, loaders.parsers=1)",
        f"422 'parsing took longer than {TIMEOUT:g} s (loaders.parse_timeout_seconds)' after {seconds:.1f} s; "
        f"text bomb 422 naming loaders.max_chars after {chars_seconds:.1f} s; the second upload 503 with "
        f"Retry-After; /healthz {health.calls} × 200, slowest {1000 * health.worst:.0f} ms; API RSS "
        f"{rss_before:.0f} → {rss_after:.0f} MiB (before, measured on the same files: parsed in the API "
        "process for 79 s, +128 MiB, before a 422; the text bomb became a 26.8 M-character document after "
        "33 s, +333 MiB)",
        lost=check.lost,
        duplicated=check.duplicated,
    )
