"""`cns ui` on one machine: uploads and "synthesize now" run in-process, through the job table."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cns.services.local_jobs import LocalJobRunner
from cns.store.sql import JobState
from cns.web.local import local_app
from tests.web.web_helpers import csrf_of, web_config

OPPOSED = (
    ("tides-move.txt", "We argue that tides move the sand of beaches because waves carry it [1]. Therefore the "
     "dunes are young.\n\n[1] Bagnold (1941). The physics of blown sand. doi:10.1007/978-94-009-5682-7\n"),
    ("tides-still.txt", "We argue that tides do not move the sand of beaches because waves are weak [1]. Thus the "
     "dunes are not young.\n\n[1] Bagnold (1941). doi:10.1007/978-94-009-5682-7\n"),
)  # fmt: skip


def test_uploads_run_in_process_and_the_sweep_pairs_them(tmp_path: Path) -> None:
    config = web_config(tmp_path / "data")
    with local_app(config) as local, TestClient(local.app) as client:
        token = csrf_of(client.get("/ui/upload").text)
        jobs = []
        for name, text in OPPOSED:
            done = client.post(
                "/ui/upload/text", data={"source": name, "text": text}, headers={"X-CSRF-Token": token}
            )
            assert done.status_code == 202, done.text
            jobs.append(done.json()["job_id"])
        assert local.runner.wait_idle(60)
        for job_id in jobs:
            status = client.get(f"/ui/jobs/{job_id}").json()
            assert status["state"] == "SUCCESS", status
            assert status["label"] in {name for name, _ in OPPOSED}
        store = local.runtime.store
        assert len(store.list()) >= 2
        # the sweep ran after the burst (as beat would): re-scored, paired, synthesized
        assert [j.kind for j in store.list_jobs(kind="rescore")] == ["rescore"]
        pairs = store.list_pairs()
        assert len(pairs) == 1
        assert store.last_attempt(pairs[0].pair_id) is not None

        again = client.post(f"/ui/pairs/{pairs[0].pair_id}/synthesize", data={"csrf_token": token},
                            headers={"Accept": "application/json"})  # fmt: skip
        assert again.status_code == 202
        assert local.runner.wait_idle(60)
        job = client.get(f"/ui/jobs/{again.json()['job_id']}").json()
        assert job["state"] == "SUCCESS" and job["kind"] == "synthesize"
        assert len(store.list_attempts(pairs[0].pair_id)) == 2  # forced past the cooldown
        assert 'id="near-misses-pending"' in client.get("/ui/pairs").text  # the models run in this process
        assert local.app.state.web.wait_judged(60)
        assert 'id="near-misses"' in client.get("/ui/pairs").text


def test_a_pair_search_asked_for_through_the_api_runs_in_process(built_store: Path, tmp_path: Path) -> None:
    from tests.web.web_helpers import copy_store

    config = web_config(copy_store(built_store, tmp_path / "data"))
    with local_app(config) as local, TestClient(local.app) as client:
        answer = client.post("/pairs/search")
        assert answer.status_code == 202, answer.text
        assert local.runner.wait_idle(60)
        status = client.get(f"/tasks/{answer.json()['job_id'][:10]}").json()  # a prefix is enough
        pairs = local.runtime.store.list_pairs()
    assert status["kind"] == "pair_search" and status["state"] == "SUCCESS", status
    assert status["result"]["pairs"] == len(pairs) == 1


def test_jobs_left_pending_are_resumed_at_the_next_start(tmp_path: Path) -> None:
    config = web_config(tmp_path / "data")
    with local_app(config) as local:
        local.runner.stop()  # nothing runs: the upload stays PENDING, as if the process had died
        with TestClient(local.app) as client:
            token = csrf_of(client.get("/ui/upload").text)
            done = client.post("/ui/upload/text", data={"source": OPPOSED[0][0], "text": OPPOSED[0][1]},
                               headers={"X-CSRF-Token": token})  # fmt: skip
            assert done.status_code == 503  # the runner is stopped: the API's broker-down answer
            job_id = done.json()["error"]["details"][0]["job_id"] if done.json()["error"]["details"] else None
    with local_app(config) as local:
        assert local.resumed == 1
        assert local.runner.wait_idle(60)
        jobs = local.runtime.store.list_jobs(kind="ingest")
        assert [j.state for j in jobs] == [JobState.SUCCESS]
        assert job_id is None or jobs[0].job_id == job_id


def test_a_failing_job_is_recorded_and_the_runner_goes_on(tmp_path: Path) -> None:
    config = web_config(tmp_path / "data")
    with local_app(config) as local:
        runner: LocalJobRunner = local.runner
        runner.publish("cns.process_ingestion", "no-such-job")
        assert runner.wait_idle(30)
        runner.publish("cns.find_pairs")
        assert runner.wait_idle(30)
        assert runner.queue_depth() == 0


def test_cns_ui_help_names_its_options() -> None:
    from cns.cli.main import app

    result = CliRunner().invoke(app, ["ui", "--help"])
    assert result.exit_code == 0
    for option in ("--data-dir", "--port", "--no-browser"):
        assert option in result.output


def test_the_pages_and_the_search_share_the_jobs_models_and_wait_for_them(
    built_store: Path, tmp_path: Path
) -> None:
    """One copy of the models in ``cns ui``: the Ask page and ``GET /search`` use the runtime the
    in-process jobs use, one at a time; while a job holds the models longer than a request may
    wait, the request says so (503, nothing lost) instead of hanging."""
    from tests.web.web_helpers import copy_store

    config = web_config(copy_store(built_store, tmp_path / "data"))
    with local_app(config) as local, TestClient(local.app) as client:
        services = local.app.state.services
        assert services.runtime is local.runtime and services.model_lock is local.runner.lock
        page = client.get("/ui/ask", params={"q": "Do continents drift?"})
        assert page.status_code == 200 and "drift.md" in page.text
        assert not local.runner.lock.locked()  # released after the search
        services.model_wait_seconds = 0.2
        with local.runner.lock:  # a job is running
            busy = client.get("/ui/ask", params={"q": "Do continents drift?"})
            api = client.get("/search", params={"q": "Do continents drift?"})
        assert busy.status_code == 503 and "the models are busy with a running job" in busy.text
        assert api.status_code == 503 and api.headers["Retry-After"] == "10"
        assert "ask again in a moment" in api.json()["error"]["message"]
        assert client.get("/search", params={"q": "Do continents drift?"}).status_code == 200
