"""Real Redis + PostgreSQL + uvicorn + Celery worker subprocesses for the service tests.

Redis DB 13 is used and flushed (no other test uses it); PostgreSQL gets a temporary database.
Every subprocess writes JSON log lines to its own file, which tests parse afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from cns.testing.services import ServiceUnavailableError, ensure_redis, in_ci, temporary_postgres_database

REPO = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/13"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stack:
    env: dict[str, str]
    tmp: Path
    api_url: str = ""
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    handles: dict[str, Any] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)

    def start(self, name: str, argv: list[str], **extra_env: str) -> subprocess.Popen[bytes]:
        log = self.tmp / f"{name}.log"
        self.logs[name] = log
        handle = log.open("ab")
        self.handles[name] = handle
        proc = subprocess.Popen(
            argv, cwd=REPO, env={**self.env, **extra_env}, stdout=handle, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self.procs[name] = proc
        return proc

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
        wait_until(lambda: _ok(self.api_url + "/healthz"), 60, "the API to answer /healthz")

    def start_worker(self, name: str = "worker", app: str = "cns.tasks", **extra_env: str) -> None:
        argv = [sys.executable, "-m", "celery", "-A", app, "--quiet", "worker", "--pool", "prefork",
                "--concurrency", "1", "--queues", "cns", "--without-gossip", "--without-mingle",
                "--loglevel", "INFO", "--hostname", f"{name}@%h"]  # fmt: skip
        self.start(name, argv, **extra_env)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.pop(name)
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        proc.wait(timeout=30)
        self.handles.pop(name).close()

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.kill(name, signal.SIGTERM if name == "api" else signal.SIGKILL)

    def log_lines(self) -> dict[str, list[str]]:
        return {
            n: [ln for ln in p.read_text(errors="replace").splitlines() if ln.strip()]
            for n, p in self.logs.items()
        }


def _ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def wait_until(check: Any, timeout: float, what: str, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def base_env(tmp: Path, database_url: str, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("CNS_")}
    env.update(
        {
            "PYTHONPATH": str(REPO),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "CNS_DATABASE_URL": database_url,
            "CNS_BROKER_URL": REDIS_URL,
            "CNS_DATA_DIR": str(tmp / "data"),
            "CNS_MODELS__EMBEDDING_BACKEND": "fake",
            "CNS_MODELS__NLI_BACKEND": "fake",
            "CNS_LOG_FORMAT": "json",
            "CNS_SERVICE__RATE_LIMIT_PER_MINUTE": "0",
            "CNS_CELERY__VISIBILITY_TIMEOUT_SECONDS": "10",
            "CNS_CELERY__TASK_TIME_LIMIT_SECONDS": "8",
            "CNS_CELERY__TASK_SOFT_TIME_LIMIT_SECONDS": "7",
        }
    )
    env.update(overrides)
    return env


@contextmanager
def service_stack(tmp: Path, **env_overrides: str) -> Iterator[Stack]:
    try:
        ensure_redis(REDIS_URL)
    except ServiceUnavailableError as exc:
        if in_ci():
            raise
        pytest.skip(str(exc))
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    with temporary_postgres_database() as database_url:
        stack = Stack(base_env(tmp, database_url, **env_overrides), tmp)
        try:
            yield stack
        finally:
            stack.stop_all()
            client.flushdb()
            client.close()


def parse_json_lines(lines: list[str]) -> list[dict[str, Any]]:
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"log line is not JSON: {line[:200]!r}") from None
    return parsed
