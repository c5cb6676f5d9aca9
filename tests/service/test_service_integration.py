"""End to end through real Redis, PostgreSQL, uvicorn and Celery workers (fake models).

* 50 documents through the API → exactly 50 SNOs, each with ``metadata.source`` as submitted;
* a worker SIGKILLed in the middle of a task → after a new worker starts, every document is
  ingested exactly once and the killed job was delivered twice;
* every log line of the API and the workers is JSON, and job events carry task and job ids.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.service.service_harness import Stack, parse_json_lines, service_stack, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

TOPICS = ["coffee", "tea", "sleep", "exercise", "reading", "music", "walking", "fasting", "sunlight", "noise"]


def document(i: int) -> dict[str, str]:
    topic = TOPICS[i % len(TOPICS)]
    text = (
        f"Study {i} reports that {topic} improves memory in adults. "
        f"The trial number {i} followed {100 + i} participants for {i + 2} weeks. "
        f"Therefore {topic} is beneficial for memory, according to report {i}."
    )
    return {"source": f"doc-{i:03d}.txt", "text": text}


def wait_for_jobs(stack: Stack, job_ids: list[str], timeout: float) -> dict[str, dict]:
    states: dict[str, dict] = {}

    def all_done() -> bool:
        for job_id in job_ids:
            if states.get(job_id, {}).get("state") in ("SUCCESS", "FAILURE"):
                continue
            states[job_id] = httpx.get(f"{stack.api_url}/tasks/{job_id}", timeout=5).json()
        return all(states[j]["state"] in ("SUCCESS", "FAILURE") for j in job_ids)

    wait_until(all_done, timeout, f"{len(job_ids)} jobs to finish", interval=0.5)
    return states


def all_snos(stack: Stack) -> dict:
    return httpx.get(f"{stack.api_url}/snos", params={"limit": 500}, timeout=10).json()


def test_fifty_documents_become_fifty_snos_and_logs_are_json(tmp_path: Path) -> None:
    with service_stack(tmp_path) as stack:
        stack.start_worker()
        stack.start_api()
        docs = [document(i) for i in range(50)]
        body = httpx.post(f"{stack.api_url}/ingest/batch", json={"documents": docs[:25]}, timeout=30)
        assert body.status_code == 202, body.text
        job_ids = [item["job_id"] for item in body.json()["items"]]
        for doc in docs[25:]:
            response = httpx.post(f"{stack.api_url}/ingest", json=doc, timeout=10)
            assert response.status_code == 202, response.text
            job_ids.append(response.json()["task_id"])
        states = wait_for_jobs(stack, job_ids, timeout=150)
        assert [s["state"] for s in states.values()].count("SUCCESS") == 50, states
        snos = all_snos(stack)
        assert snos["total"] == 50
        assert sorted(s["source"] for s in snos["items"]) == sorted(d["source"] for d in docs)
        assert {states[j]["sno_id"] for j in job_ids} == {s["sno_id"] for s in snos["items"]}
        assert httpx.get(f"{stack.api_url}/tasks/{'0' * 32}", timeout=5).status_code == 404
        metrics = httpx.get(f"{stack.api_url}/metrics", timeout=10).text
        assert 'cns_jobs{kind="ingest",state="SUCCESS"} 50.0' in metrics
        assert 'cns_task_latency_seconds_count{kind="ingest"} 50.0' in metrics
        ready = httpx.get(f"{stack.api_url}/readyz", timeout=15)
        assert ready.status_code == 200, ready.text
        stack.stop_all()
        check_logs(stack, expected_jobs=set(job_ids))


def check_logs(stack: Stack, expected_jobs: set[str]) -> None:
    lines = stack.log_lines()
    events = {name: parse_json_lines(found) for name, found in lines.items()}
    worker_events = [e for name, evs in events.items() if name.startswith("worker") for e in evs]
    job_events = [e for e in worker_events if str(e.get("event", "")).startswith(("job.", "sno_"))]
    assert job_events, "the worker logged no job events"
    missing = [e for e in job_events if not e.get("task_id") or not e.get("job_id")]
    assert missing == [], missing[:3]
    completed = {e["job_id"] for e in job_events if e["event"] == "job.completed"}
    assert expected_jobs <= completed
    assert all("timestamp" in e and "level" in e for evs in events.values() for e in evs)
    api_requests = [e for e in events["api"] if e.get("event") == "http.request"]
    assert api_requests and all(e.get("request_id") for e in api_requests)


def test_worker_sigkill_mid_task_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    with service_stack(tmp_path) as stack:
        # one NLI call per document since the per-document model session: 2 s keeps the kill
        # below inside the task (observing STARTED takes up to ~0.5 s, then 0.3 s of sleep)
        stack.start_worker(
            "worker-slow", app="tests.service.slow_worker_app", CNS_FAKE_NLI_DELAY_SECONDS="2.0"
        )
        stack.start_api()
        docs = [document(i) for i in range(6)]
        response = httpx.post(f"{stack.api_url}/ingest/batch", json={"documents": docs}, timeout=30)
        job_ids = [item["job_id"] for item in response.json()["items"]]

        started: list[str] = []

        def some_job_started() -> bool:
            # the jobs seen STARTED in this pass: asking again would spend the slow task's time
            states = {j: httpx.get(f"{stack.api_url}/tasks/{j}", timeout=5).json()["state"] for j in job_ids}
            started[:] = [j for j, state in states.items() if state == "STARTED"]
            return bool(started)

        wait_until(some_job_started, 60, "a job to start")
        time.sleep(0.3)  # inside the slow task
        stack.kill("worker-slow")  # SIGKILL the whole worker: main process and child
        killed_at = time.monotonic()
        at_kill = httpx.get(f"{stack.api_url}/tasks/{started[0]}", timeout=5).json()
        assert at_kill["state"] == "STARTED" and at_kill["attempts"] == 1  # killed mid-task
        stack.start_worker("worker-new")
        states = wait_for_jobs(stack, job_ids, timeout=120)
        recovery = time.monotonic() - killed_at
        assert all(s["state"] == "SUCCESS" for s in states.values()), states
        assert states[started[0]]["attempts"] == 2
        snos = all_snos(stack)
        assert snos["total"] == len(docs)
        assert sorted(s["source"] for s in snos["items"]) == sorted(d["source"] for d in docs)
        assert len({s["document_id"] for s in snos["items"]}) == len(docs)
        print(f"recovered {len(docs)} jobs {recovery:.1f} s after SIGKILL")


def cns_run_api(stack: Stack, folder: Path, out: Path) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "cns", "run", str(folder), "--api", stack.api_url, "--out", str(out)]
    env = {**stack.env, "COLUMNS": "400"}
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=180, check=False)


def test_cns_run_api_waits_prints_a_readable_summary_and_writes_the_outputs(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for i in range(3):
        (folder / f"doc-{i}.txt").write_text(document(i)["text"], encoding="utf-8")
    (folder / "copy-of-doc-0.txt").write_text(document(0)["text"], encoding="utf-8")
    (folder / "shout.txt").write_text("!!! ??? ...", encoding="utf-8")  # no words: the API answers 422
    (folder / "script.py").write_text("print('not a document')\n", encoding="utf-8")
    with service_stack(tmp_path) as stack:
        stack.start_worker()
        stack.start_api()
        out = tmp_path / "out"
        first = cns_run_api(stack, folder, out)
        said = " ".join(first.stderr.split())
        assert first.returncode == 1, said  # shout.txt was refused: listed, and the exit code says so
        assert "SubmitReport(" not in said and "Traceback" not in said, said
        assert "ingested 3 (admitted" in said and "duplicates 1, skipped 1, failed 1" in said, said
        assert "skipped script.py" in said.replace(str(folder) + "/", ""), said
        assert "failed " in said and "shout.txt: refused by the service (422): text has no words" in said, (
            said
        )
        rows = [json.loads(line) for line in (out / "snos.jsonl").read_text().splitlines()]
        names = sorted(Path(r["metadata"]["source"]).name for r in rows)  # the copy is read first
        assert names == ["copy-of-doc-0.txt", "doc-1.txt", "doc-2.txt"], names
        assert (out / "pairs.jsonl").is_file() and len(list((out / "graphs").glob("*.graphml"))) == 3
        report = (out / "report.html").read_text()
        assert "doc-1.txt" in report and "shout.txt" in report  # the refused file is in the report too
        assert f"wrote {out / 'report.html'}" in said, said

        again = cns_run_api(stack, folder, out)  # every job is replayed: nothing new is ingested
        said = " ".join(again.stderr.split())
        assert "ingested 0 (admitted 0, archived 0), duplicates 4" in said, said
        assert len([line for line in (out / "snos.jsonl").read_text().splitlines() if line]) == 3
