"""``cns submit`` / ``run_via_api``: a folder in, one job per document, followed to completion."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cns.cli.api_client import run_via_api
from cns.cli.service_cmd import service_app
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
