"""POST /ingest under an open-loop load of 100, 200 and 400 requests/s, in one run.

Goal: p99 ≤ 50 ms at 200 requests/s offered, with no errors, on this 2-core machine.

A real ``cns serve`` (uvicorn, its default worker count unless ``--workers``) on a temporary
PostgreSQL database and Redis (DB 14 unless ``--redis-url``); no Celery worker, so jobs only
queue — what is measured is the API's accept path: body limit, rate limit, (optionally) the API
key check, the document and job committed, the job id published. Logging at INFO as in the
documented deployment, and the rate limiter on (with a limit no client reaches) so that its
cost is measured too.

Each offered rate runs for ``--seconds`` after a warm-up; the generator (``_open_loop``) sends on
schedule and counts latency from when a request was due, so queueing is never hidden. Per rate:
the achieved rate (202s per second), p50/p95/p99/max latency, errors by kind, and who used the
CPU during the step (the cores are shared with other work; a noisy step is visible as such).

    .venv/bin/python benchmarks/api_latency.py [--rates 100,200,400] [--seconds 10] [--workers N]
                                               [--auth] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from _commit_probe import CommitProbe  # sibling modules (benchmarks/ is run as scripts)
from _cpu_share import share, snapshot
from _open_loop import StepResult, run_step
from _service_stack import REDIS_URL, Stack, stack

GOAL_RATE = 200.0
GOAL_P99_MS = 50.0
WARMUP_REQUESTS = 300
PARAGRAPH = (
    "Continental plates move a few centimetres a year, driven by convection in the mantle. "
    "Critics of the early theory asked what force could move a continent; the answer came from "
    "sea-floor spreading, measured with magnetic stripes on both sides of the mid-ocean ridges. "
    "We argue that the evidence from GPS stations settles the question."
)


def body_maker(run: str) -> Any:
    def body(i: int) -> bytes:
        text = f"Benchmark document {i} of run {run}. {PARAGRAPH}"
        return json.dumps({"source": f"bench-{run}-{i}.txt", "text": text}).encode()

    return body


def api_key(s: Stack) -> str:
    """A write key made directly in the stack's database (the API has migrated it by now)."""
    from cns.services.apikeys import create_api_key
    from cns.store.sql import SQLStore

    with SQLStore.open(s.env["CNS_DATABASE_URL"]) as store:
        _, key = create_api_key(store, name="benchmark", scope="write")
    return key


def report(step: StepResult) -> dict[str, Any]:
    return {
        "offered_rate": step.offered_rate,
        "requests": step.requests,
        "achieved_rate": round(step.achieved_rate, 1),
        "ok": step.ok,
        "errors": sum(step.errors.values()),
        "errors_by_kind": dict(step.errors),
        "p50_ms": round(step.percentile(0.50), 1),
        "p95_ms": round(step.percentile(0.95), 1),
        "p99_ms": round(step.percentile(0.99), 1),
        "max_ms": round(max(step.latencies_ms, default=float("nan")), 1),
        "max_send_lag_ms": round(step.max_send_lag_ms, 1),
    }


async def measure(s: Stack, args: argparse.Namespace, probe: CommitProbe) -> list[dict[str, Any]]:
    url = urlparse(s.api_url)
    host, port = url.hostname or "127.0.0.1", int(url.port or 80)
    headers = {"X-API-Key": api_key(s)} if args.auth else {}
    run = uuid.uuid4().hex[:8]
    warm = await run_step(
        host, port, "/ingest", rate=100.0, seconds=WARMUP_REQUESTS / 100.0, body=body_maker(run + "w"),
        headers=headers,
    )  # fmt: skip
    print(f"warm-up: {warm.ok} accepted, {sum(warm.errors.values())} errors", flush=True)
    rows: list[dict[str, Any]] = []
    windows: list[tuple[float, float]] = []
    api_root = s.procs["api"].pid
    for rate in args.rates:
        time.sleep(args.pause)
        gc.collect()  # the generator's own collections (of the warm-up's objects) stall it
        gc.freeze()
        before, start, began = snapshot(), time.perf_counter(), time.time()
        step = await run_step(
            host, port, "/ingest", rate=rate, seconds=args.seconds, body=body_maker(f"{run}-{rate:g}"),
            headers=headers,
        )  # fmt: skip
        cpu = share(before, snapshot(), time.perf_counter() - start, api_root)
        windows.append((began, time.time()))
        row = report(step) | {
            "cpu": cpu.describe(),
            "api_cpu_ms_per_request": round(cpu.per_request_ms("api", step.requests), 2),
            "postgres_cpu_ms_per_request": round(cpu.per_request_ms("postgres", step.requests), 2),
        }
        rows.append(row)
        print(
            f"offered {rate:>5g}/s  achieved {row['achieved_rate']:>6.1f}/s  errors {row['errors']:>4}"
            f"  p50 {row['p50_ms']:>7.1f} ms  p95 {row['p95_ms']:>7.1f} ms  p99 {row['p99_ms']:>7.1f} ms"
            f"  max {row['max_ms']:>7.1f} ms",
            flush=True,
        )
        if step.errors:
            print(f"    errors: {dict(step.errors)}")
        print(f"    the generator sent at most {row['max_send_lag_ms']} ms late", flush=True)
        print(f"    {cpu.describe()}", flush=True)
        print(
            f"    CPU per request: API {row['api_cpu_ms_per_request']} ms, "
            f"PostgreSQL {row['postgres_cpu_ms_per_request']} ms",
            flush=True,
        )
    for row, inside, (began, ended) in zip(rows, server_durations(s, windows), windows, strict=True):
        row.update(inside)
        commits = probe.window(began, ended)
        row["commit_p50_ms"], row["commit_max_ms"] = _quantile(commits, 0.5), _quantile(commits, 1.0)
    return rows


def server_durations(s: Stack, windows: list[tuple[float, float]]) -> list[dict[str, Any]]:
    """Per step, the API's own ``duration_ms`` of POST /ingest (its access log): from the first
    byte the server read to its answer — what the server added, without the client's side."""
    durations: list[list[float]] = [[] for _ in windows]
    for line in s.log_lines().get("api", []):
        if '"http.request"' not in line or '"/ingest"' not in line:
            continue
        event = json.loads(line)
        when = datetime.fromisoformat(event["timestamp"]).timestamp()
        for i, (began, ended) in enumerate(windows):
            if began <= when <= ended:
                durations[i].append(float(event["duration_ms"]))
    return [{"server_p50_ms": _quantile(d, 0.5), "server_p99_ms": _quantile(d, 0.99)} for d in durations]


def _quantile(values: list[float], q: float) -> float | None:
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(q * len(ordered)) - 1)], 1) if ordered else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--rates", type=lambda v: [float(x) for x in v.split(",")], default=[100.0, 200.0, 400.0]
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each offered rate")
    parser.add_argument("--workers", type=int, default=None, help="cns serve --workers (default: its own)")
    parser.add_argument("--auth", action="store_true", help="auth.enabled, every request with a write key")
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--pause", type=float, default=2.0, help="seconds of rest between two rates")
    parser.add_argument("--redis-url", default=REDIS_URL, help="a Redis database this run may flush")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = parser.parse_args()
    env = {
        "CNS_LOG_LEVEL": args.log_level,
        "CNS_SERVICE__RATE_LIMIT_PER_MINUTE": str(10**9),  # on, but never reached by this one client
        "CNS_AUTH__ENABLED": "true" if args.auth else "false",
    }
    print(f"{os.cpu_count()} CPUs, load average before: {os.getloadavg()[0]:.1f}", flush=True)
    with tempfile.TemporaryDirectory() as tmp, stack(Path(tmp), redis_url=args.redis_url, **env) as s:
        s.start_api(workers=args.workers)
        with CommitProbe(s.env["CNS_DATABASE_URL"]) as probe:
            rows = asyncio.run(measure(s, args, probe))
    for row in rows:
        print(
            f"offered {row['offered_rate']:>5g}/s  inside the server (access log): p50 {row['server_p50_ms']} ms, "
            f"p99 {row['server_p99_ms']} ms; a PostgreSQL commit beside it: p50 {row['commit_p50_ms']} ms, "
            f"max {row['commit_max_ms']} ms"
        )
    goal = next((r for r in rows if r["offered_rate"] == GOAL_RATE), None)
    if goal is not None:
        met = goal["p99_ms"] <= GOAL_P99_MS and goal["errors"] == 0
        print(f"goal (p99 ≤ {GOAL_P99_MS:g} ms at {GOAL_RATE:g}/s, 0 errors): {'met' if met else 'NOT met'}")
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
