"""Start PostgreSQL (temporary database), Redis (DB 14, flushed) and CNS processes for benchmarks."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import redis

from cns.testing.services import ensure_redis, temporary_postgres_database

REPO = Path(__file__).resolve().parents[1]
REDIS_URL = "redis://127.0.0.1:6379/14"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Stack:
    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs, self.procs = env, logs, {}  # type: ignore[var-annotated]
        self.api_url = ""

    def start(self, name: str, argv: list[str]) -> None:
        handle = (self.logs / f"{name}.log").open("ab")
        self.procs[name] = (subprocess.Popen(argv, cwd=REPO, env=self.env, stdout=handle, stderr=subprocess.STDOUT,
                                             start_new_session=True), handle)  # fmt: skip

    def start_api(self) -> None:
        port = free_port()
        self.api_url = f"http://127.0.0.1:{port}"
        self.start(
            "api",
            [
                sys.executable,
                "-m",
                "cns.cli.service_cmd",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.api_url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("API did not start")

    def start_worker(self, name: str, concurrency: int) -> None:
        self.start(name, [sys.executable, "-m", "celery", "-A", "cns.tasks", "--quiet", "worker", "--pool", "prefork",
                          "--concurrency", str(concurrency), "--queues", "cns", "--without-gossip",
                          "--without-mingle", "--loglevel", "WARNING", "--hostname", f"{name}@%h"])  # fmt: skip

    def stop(self, name: str) -> None:
        proc, handle = self.procs.pop(name)
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
        handle.close()

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.stop(name)


@contextmanager
def stack(logs: Path, **overrides: str) -> Iterator[Stack]:
    ensure_redis(REDIS_URL)
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    logs.mkdir(parents=True, exist_ok=True)
    with temporary_postgres_database(prefix="cns_bench") as url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CNS_")}
        env.update({"PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
                    "CNS_DATABASE_URL": url, "CNS_BROKER_URL": REDIS_URL, "CNS_DATA_DIR": str(logs / "data"),
                    "CNS_MODELS__EMBEDDING_BACKEND": "fake", "CNS_MODELS__NLI_BACKEND": "fake",
                    "CNS_LOG_FORMAT": "json", "CNS_LOG_LEVEL": "WARNING",
                    "CNS_SERVICE__RATE_LIMIT_PER_MINUTE": "0", **overrides})  # fmt: skip
        s = Stack(env, logs)
        try:
            yield s
        finally:
            s.stop_all()
            client.flushdb()
            client.close()
