"""POST /ingest latency under an open-loop load (goal: p99 ≤ 50 ms at 200 requests/s, no errors).

Real uvicorn + PostgreSQL + Redis on 127.0.0.1 (no worker: jobs only queue). Requests are
scheduled at a fixed rate by a thread pool, so a slow response does not slow the offered load.

    .venv/bin/python benchmarks/api_latency.py --rate 200 --seconds 10
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from _service_stack import stack  # sibling module (benchmarks/ is run as scripts)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=32)
    args = parser.parse_args()
    total = int(args.rate * args.seconds)
    with tempfile.TemporaryDirectory() as tmp, stack(Path(tmp)) as s:
        s.start_api()
        local = threading.local()
        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()

        def client() -> httpx.Client:
            if not hasattr(local, "client"):
                local.client = httpx.Client(base_url=s.api_url, timeout=10)
            return local.client

        def one(i: int, due: float) -> None:
            time.sleep(max(0.0, due - time.perf_counter()))
            start = time.perf_counter()
            try:
                r = client().post(
                    "/ingest", json={"source": f"b{i}", "text": f"Benchmark document {i} about plates."}
                )
                ok = r.status_code == 202
            except httpx.HTTPError as exc:
                ok, r = False, exc  # type: ignore[assignment]
            elapsed = time.perf_counter() - start
            with lock:
                (latencies.append(elapsed * 1000) if ok else errors.append(str(r)))

        for i in range(50):  # warm-up: connections, DB pool, Celery producer
            one(-i - 1, 0)
        latencies.clear()
        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.threads) as pool:
            for i in range(total):
                pool.submit(one, i, t0 + i / args.rate)
        wall = time.perf_counter() - t0
        q = statistics.quantiles(latencies, n=100)
        print(f"requests={total} achieved_rate={total / wall:.1f}/s errors={len(errors)} "
              f"p50={q[49]:.1f}ms p95={q[94]:.1f}ms p99={q[98]:.1f}ms max={max(latencies):.1f}ms")  # fmt: skip


if __name__ == "__main__":
    main()
