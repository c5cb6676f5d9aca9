"""Documents per second through the service with 1 vs 2 workers, and the Celery path's overhead.

Side by side in one run, on this machine's PostgreSQL (temporary database) and Redis, with the
deterministic fake models so the numbers measure the plumbing, not the models:

* in-process: ``CNSWorkflowManager.ingest_and_evaluate`` on a SQL store, one document after another;
* service: ``POST /ingest/batch`` → Redis → N Celery workers (1, then 2) → PostgreSQL, timed
  until every job is SUCCESS.

Per-document overhead of the Celery path = (service time with 1 worker − in-process time) / N.
Goal (issue 7): ≤ 10 ms per document.

Usage: .venv/bin/python benchmarks/worker_throughput.py [--docs 60]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import httpx
from _service_stack import Stack, stack  # sibling module (benchmarks/ is run as scripts)


def documents(n: int, salt: str) -> list[dict[str, str]]:
    topics = ["continents", "light", "the universe", "coffee", "cities", "vaccines"]
    return [
        {
            "source": f"bench-{salt}-{i}.txt",
            "text": (
                f"Claim {salt} {i}. By Bench Writer\n\nWe argue that {topics[i % 6]} change in case {i} because "
                f"the evidence of study {i} shows it [1]. However, critics disagree about case {i}. Therefore "
                f"more data on {topics[i % 6]} is needed.\n\nReferences\n[1] Study {i}. doi:10.5555/bench.{i % 7}\n"
            ),
        }
        for i in range(n)
    ]


def in_process(url: str, docs: list[dict[str, str]], data_dir: Path) -> float:
    from cns.config import CNSConfig
    from cns.store.sql import SQLStore
    from cns.workflow.manager import CNSWorkflowManager

    config = CNSConfig(models={"embedding_backend": "fake", "nli_backend": "fake"}, data_dir=data_dir)
    with SQLStore.open(url) as store:
        manager = CNSWorkflowManager(config, store=store)
        manager.ingest_and_evaluate("warm-up document. We argue that warming up helps.", "warm-up")
        start = time.perf_counter()
        for doc in docs:
            manager.ingest_and_evaluate(doc["text"], doc["source"])
        return time.perf_counter() - start


def through_service(s: Stack, docs: list[dict[str, str]]) -> float:
    with httpx.Client(base_url=s.api_url, timeout=30) as client:
        start = time.perf_counter()
        task_ids: list[str] = []
        for i in range(0, len(docs), 50):
            response = client.post("/ingest/batch", json={"documents": docs[i : i + 50]})
            response.raise_for_status()
            task_ids += [item["task_id"] for item in response.json()["items"]]
        pending = set(task_ids)
        deadline = time.monotonic() + 600
        while pending and time.monotonic() < deadline:
            for task_id in list(pending):
                state = client.get(f"/tasks/{task_id}").json()["state"]
                if state == "SUCCESS":
                    pending.discard(task_id)
                elif state == "FAILURE":
                    raise RuntimeError(f"job {task_id} failed")
            time.sleep(0.05)
        if pending:
            raise RuntimeError(f"{len(pending)} jobs did not finish")
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=60)
    args = parser.parse_args()
    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for workers in (1, 2):
            with stack(Path(tmp) / f"w{workers}") as s:
                s.start_api()
                for w in range(workers):
                    s.start_worker(f"worker{w}", concurrency=1, loglevel="WARNING")
                through_service(s, documents(3, f"warm{workers}"))  # workers load and connect
                rows.append(
                    (f"service, {workers} worker(s)", through_service(s, documents(args.docs, f"w{workers}")))
                )
                if workers == 1:
                    url = s.env["CNS_DATABASE_URL"]
                    seconds = in_process(url, documents(args.docs, "inproc"), Path(tmp) / "inproc")
                    rows.insert(0, ("in-process (same database)", seconds))
    n = args.docs
    print(f"| path | seconds for {n} documents | documents/s |\n|---|---|---|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.2f} | {n / seconds:.1f} |")
    overhead_ms = (rows[1][1] - rows[0][1]) / n * 1000
    print(f"\nCelery path overhead: {overhead_ms:.1f} ms per document (goal ≤ 10 ms)")
    print(f"2 workers vs 1: {rows[1][1] / rows[2][1]:.2f}× the throughput ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
