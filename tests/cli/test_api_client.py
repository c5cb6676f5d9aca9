"""``cns submit`` / ``run_via_api``: a folder in, one job per document, followed to completion."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
import typer
from fastapi.testclient import TestClient
from rich.console import Console
from typer.testing import CliRunner

from cns.cli import api_client as api_client_module
from cns.cli.api_client import run_via_api
from cns.cli.run_cmd import run_with_service
from cns.cli.service_cmd import service_app
from cns.errors import CNSError
from cns.testing.service_stack import free_port
from tests.api.api_helpers import api_client


class ViaTestClient(httpx.BaseTransport):
    """Routes a plain httpx.Client's requests through a FastAPI TestClient."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url.raw_path.decode()
        answer = self.client.request(
            request.method, url, content=request.read(), headers=dict(request.headers)
        )
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)


def test_run_via_api_submits_once_per_document_and_follows(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("Coffee improves memory in adults.")
    (folder / "b.md").write_text("# Tea\n\nTea harms nobody.")
    (folder / "empty.txt").write_text("   ")
    with api_client(tmp_path) as (client, store, publisher):
        transport = ViaTestClient(client)
        report = run_via_api([folder], "http://testserver", follow=False, transport=transport)
        assert report.summary()["submitted"] == 2 and len(report.skipped) == 1
        again = run_via_api([folder], "http://testserver", follow=False, transport=transport)
        assert set(again.submitted) == set(report.submitted) and len(store.list_jobs()) == 2
        for job_id in report.submitted:
            store.start_job(job_id)
            store.complete_job(job_id, {"sno_id": f"sno-{job_id[:4]}"})
        followed = run_via_api(
            [folder], "http://testserver", follow=True, transport=transport, poll_seconds=0.01
        )
        assert followed.summary()["succeeded"] == 2 and len(followed.sno_ids) == 2
        assert len(publisher.sent) == 2


def test_apikey_cli_prints_the_key_once_and_lists_ids(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CNS_DATA_DIR", str(tmp_path / "cli-data"))
    runner = CliRunner()
    created = runner.invoke(service_app, ["apikey", "create", "ops"])
    assert created.exit_code == 0, created.output
    key = created.output.strip().splitlines()[-1]
    assert key.startswith("cnsk_")
    listed = runner.invoke(service_app, ["apikey", "list"])
    assert key.split(".")[0].removeprefix("cnsk_") in listed.output and key.split(".")[1] not in listed.output
    assert runner.invoke(service_app, ["apikey", "revoke", "nope"]).exit_code == 1


def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("Coffee improves memory in adults.")
    (folder / "b.md").write_text("# Tea\n\nTea harms nobody.")
    (folder / "c.txt").write_text("!!! ???")  # no word: the service refuses this one document (422)
    return folder


def run_cli(folder: Path, url: str, out: Path, **options: object) -> tuple[int, str]:
    """``cns run --api`` through :func:`run_with_service`, its exit code and what it printed."""
    console = Console(file=io.StringIO(), width=400)
    code = 0
    try:
        run_with_service(
            [folder], url, out, api_key=options.pop("api_key", None), console=console,
            poll_seconds=0.01, retry_wait=0.01, **options,  # type: ignore[arg-type]
        )  # fmt: skip
    except typer.Exit as exc:
        code = exc.exit_code
    return code, " ".join(console.file.getvalue().split())  # type: ignore[attr-defined]


def test_run_api_lists_a_refused_document_and_unfinished_jobs_and_still_writes_the_outputs(
    tmp_path: Path,
) -> None:
    with api_client(tmp_path) as (client, store, _):
        out = tmp_path / "out"
        code, said = run_cli(
            corpus(tmp_path), "http://testserver", out, transport=ViaTestClient(client), timeout=0.2
        )
        assert code == 1 and "SubmitReport(" not in said, said
        assert "ingested 0 (admitted 0, archived 0), duplicates 0, skipped 0, failed 3" in said, said
        assert "c.txt: refused by the service (422): text has no words" in said, said
        assert said.count("still PENDING when the client stopped waiting") == 2, said  # no worker here
        assert len(store.list_jobs()) == 2
        assert (out / "report.html").is_file() and (out / "snos.jsonl").read_text() == ""


def test_run_api_with_a_refused_key_says_so_once_and_lists_every_document(tmp_path: Path) -> None:
    with api_client(tmp_path, auth={"enabled": True}) as (client, store, _):
        code, said = run_cli(
            corpus(tmp_path),
            "http://testserver",
            tmp_path / "out",
            transport=ViaTestClient(client),
            api_key="bad",
        )
        assert code == 1 and said.count("the service refused the API key (401") == 1, said
        assert said.count("not submitted: the service refused the API key (see the error above)") == 3, said
        assert all(f"{name}: not submitted" in said for name in ("a.txt", "b.md", "c.txt")), said
        assert "nothing written" in said and store.list_jobs() == []


def test_run_api_when_the_service_answers_503_retries_then_lists_what_was_not_submitted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "one" / "a.txt").write_text("Coffee improves memory in adults.")
    waits: list[float] = []
    monkeypatch.setattr(api_client_module.time, "sleep", waits.append)
    with api_client(tmp_path) as (client, store, publisher):
        publisher.down = True
        transport = ViaTestClient(client)
        code, said = run_cli(tmp_path / "one", "http://testserver", tmp_path / "out", transport=transport)
        assert code == 1 and "error: the service is unavailable (503" in said, said
        assert "a.txt: not submitted: the service was unavailable (503)" in said, said
        assert len(waits) == api_client_module.RETRIES_503 and all(w > 0 for w in waits)  # Retry-After
        assert len(store.list_jobs()) == 1  # the retries replayed the one job the service recorded


def test_run_api_when_the_service_is_unreachable_is_one_clear_error(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(CNSError, match="cannot reach the CNS service at http://127.0.0.1:.*0 of 3 documents"):
        run_cli(corpus(tmp_path), url, tmp_path / "out")
