"""Documents per second through the service with 1 vs 2 workers, and the Celery path's overhead.

Side by side in one run, on this machine's PostgreSQL (temporary database) and Redis, with the
deterministic fake models so the numbers measure the plumbing, not the models:

* in-process, same work as a worker: the workers' own manager
  (:class:`~cns.workflow.manager.CNSWorkflowManager`: the novelty reference index follows the
  store's change feed, synced before every document, faiss capped at one thread as in a worker)
  on a SQL store, one document after another, logging at WARNING like the benchmark's workers;
* service: ``POST /ingest/batch`` → Redis → N Celery workers (1, then 2) → PostgreSQL, timed from
  the first POST until the last job became SUCCESS in the job table (the jobs' ``updated_at``,
  read through ``GET /tasks/{id}``). When the polling client saw the batch done (it polls every
  ``POLL_INTERVAL``) is printed as well.

Per-document overhead of the Celery path = (service time with 1 worker − in-process time, same
work) / N: what the API, Redis, Celery and the job bookkeeping add to the same ingestion.
Goal (issue 7): ≤ 10 ms per document.

The 2 cores are shared (other test suites, other engineers), and the load moves within seconds,
so each path runs ``--repeat`` times, the service and in-process runs alternating in the same
stack; the table shows the median of each path, and the overhead of every repetition is printed.

Usage: .venv/bin/python benchmarks/worker_throughput.py [--docs 60] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
from _service_stack import Stack, stack  # sibling module (benchmarks/ is run as scripts)

from cns.logging_setup import configure_logging

#: Pause between two status requests while the newest unconfirmed job is still running.
POLL_INTERVAL = 0.1


@dataclass(frozen=True)
class Timing:
    """Seconds for one path: until the work was done, and until the client knew it."""

    seconds: float
    seen_after: float | None = None


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


def in_process(url: str, docs: list[dict[str, str]], data_dir: Path, *, tag: str) -> Timing:
    """Ingest ``docs`` one after another in this process, as a worker does."""
    from cns.config import CNSConfig
    from cns.store.sql import SQLStore
    from cns.workflow.manager import CNSWorkflowManager

    config = CNSConfig(models={"embedding_backend": "fake", "nli_backend": "fake"}, data_dir=data_dir)
    with SQLStore.open(url) as store:
        manager = CNSWorkflowManager(config, store=store)
        manager.ingest_and_evaluate(f"warm-up {tag}. We argue that warming up helps.", "warm-up")
        start = time.perf_counter()
        for doc in docs:
            manager.ingest_and_evaluate(doc["text"], doc["source"])
        return Timing(time.perf_counter() - start)


def wait_for_jobs(client: httpx.Client, task_ids: list[str], timeout: float = 600.0) -> tuple[float, float]:
    """Wait until every job is SUCCESS; return when the last one became SUCCESS and when we saw it.

    The first is the jobs' own ``updated_at`` (epoch seconds, set in the worker's final
    transaction), so neither the polling interval nor the status requests are charged to the
    Celery path. The newest job is asked about every ``POLL_INTERVAL``; once it is SUCCESS the
    older ones are confirmed (normally already done; a request for one that is not yet done
    waits for it, and counts as seeing it). The second value (``perf_counter``) is when the
    last job that had to be waited for was seen done. Asking about every pending job every
    50 ms, as this benchmark did before, made the API, the database and this client take a good
    share of the 2 cores the workers needed.
    """
    deadline = time.monotonic() + timeout
    pending = list(task_ids)
    finished, seen, waited = 0.0, 0.0, True  # the newest job counts as waited for
    while pending:
        view = client.get(f"/tasks/{pending[-1]}").json()
        if view["state"] == "SUCCESS":
            finished = max(finished, datetime.fromisoformat(view["updated_at"]).timestamp())
            seen = time.perf_counter() if waited else seen
            pending.pop()
            waited = False
            continue
        if view["state"] == "FAILURE":
            raise RuntimeError(f"job {pending[-1]} failed: {view.get('error')}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(pending)} jobs did not finish")
        waited = True
        time.sleep(POLL_INTERVAL)
    return finished, seen


def through_service(s: Stack, docs: list[dict[str, str]]) -> Timing:
    with httpx.Client(base_url=s.api_url, timeout=30) as client:
        wall_start, start = time.time(), time.perf_counter()
        task_ids: list[str] = []
        for i in range(0, len(docs), 50):
            response = client.post("/ingest/batch", json={"documents": docs[i : i + 50]})
            response.raise_for_status()
            task_ids += [item["task_id"] for item in response.json()["items"]]
        finished, seen = wait_for_jobs(client, task_ids)
        return Timing(finished - wall_start, seen - start)


SAME_WORK = "in-process, same work as a worker"


def measure(n: int, repeat: int, tmp: Path) -> dict[str, list[Timing]]:
    """Every path ``repeat`` times; in the 1-worker stack service and in-process runs alternate."""
    runs: dict[str, list[Timing]] = {}
    for workers in (1, 2):
        with stack(tmp / f"w{workers}") as s:
            s.start_api()
            for w in range(workers):
                s.start_worker(f"worker{w}", concurrency=1, loglevel="WARNING")
            through_service(s, documents(3, f"warm{workers}"))  # workers load and connect
            for r in range(repeat):
                service = through_service(s, documents(n, f"w{workers}-{r}"))
                runs.setdefault(f"service, {workers} worker(s)", []).append(service)
                if workers == 1:
                    url = s.env["CNS_DATABASE_URL"]
                    docs = documents(n, f"inproc-{r}")
                    timing = in_process(url, docs, tmp / "inproc", tag=str(r))
                    runs.setdefault(SAME_WORK, []).append(timing)
    return runs


def median(timings: list[Timing], seen: bool = False) -> float:
    return statistics.median((t.seen_after or t.seconds) if seen else t.seconds for t in timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    configure_logging(level="WARNING")  # as the stack's API and workers (CNS_LOG_LEVEL=WARNING)
    n: int = args.docs
    with tempfile.TemporaryDirectory() as tmp:
        runs = measure(n, args.repeat, Path(tmp))
    one, two = runs["service, 1 worker(s)"], runs["service, 2 worker(s)"]
    print(f"median of {args.repeat} runs each\n")
    print(f"| path | seconds for {n} documents | documents/s | client saw it done after (s) |")
    print("|---|---|---|---|")
    for name in (SAME_WORK, "service, 1 worker(s)", "service, 2 worker(s)"):
        seconds = median(runs[name])
        seen = f"{median(runs[name], seen=True):.2f}" if name.startswith("service") else ""
        print(f"| {name} | {seconds:.2f} | {n / seconds:.1f} | {seen} |")

    def per_doc(service: float, baseline: float) -> float:
        return (service - baseline) / n * 1000

    each = [per_doc(s.seconds, b.seconds) for s, b in zip(one, runs[SAME_WORK], strict=True)]
    print(
        f"\nCelery path overhead: {per_doc(median(one), median(runs[SAME_WORK])):.1f} ms per document"
        " (goal ≤ 10 ms)"
        f"\n  per repetition: {', '.join(f'{x:.1f}' for x in each)} ms"
        f"\n  until the client saw it done: {per_doc(median(one, seen=True), median(runs[SAME_WORK])):.1f} ms"
    )
    print(f"2 workers vs 1: {median(one) / median(two):.2f}× the throughput ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
