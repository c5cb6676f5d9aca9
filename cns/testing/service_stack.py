"""Real uvicorn + Celery worker subprocesses on Redis and a temporary PostgreSQL database.

One implementation for the service tests (``tests/service/service_harness.py``, Redis DB 13) and
the service benchmarks (``benchmarks/``, Redis DB 14): each caller picks its Redis database, which
is flushed before and after, so the two never see each other's messages. Every subprocess writes
its log lines (JSON with the defaults below) to ``<tmp>/<name>.log``, which callers parse afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
import redis

from cns.testing.redis_server import free_port
from cns.testing.services import ensure_redis, temporary_postgres_database

REPO = Path(__file__).resolve().parents[2]

__all__ = ["Stack", "base_env", "free_port", "parse_json_lines", "running_stack", "wait_until"]


def wait_until(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> None:
    """Poll ``check`` until it is truthy; AssertionError naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@dataclass
class Stack:
    """The processes of one stack, by name, with their environment and log files."""

    env: dict[str, str]
    tmp: Path
    api_url: str = ""
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    handles: dict[str, IO[bytes]] = field(default_factory=dict)
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

    def start_api(self, *, wait_seconds: float = 60.0, workers: int | None = 1) -> None:
        """``cns serve`` on a free port with ``--workers`` (None: the command's own default).

        One process unless asked: the tests that read the API's per-process state (its log, its
        cached readiness verdict) see one process; tests of several workers ask for them.
        """
        port = free_port()
        self.api_url = f"http://127.0.0.1:{port}"
        argv = [
            sys.executable,
            "-m",
            "cns.cli.service_cmd",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
        if workers is not None:
            argv += ["--workers", str(workers)]
        self.start("api", argv)
        wait_until(lambda: _ok(self.api_url + "/healthz"), wait_seconds, "the API to answer /healthz")

    def start_worker(
        self, name: str = "worker", app: str = "cns.tasks", *, concurrency: int = 1, loglevel: str = "INFO",
        **extra_env: str,
    ) -> None:  # fmt: skip
        argv = [sys.executable, "-m", "celery", "-A", app, "--quiet", "worker", "--pool", "prefork",
                "--concurrency", str(concurrency), "--queues", "cns", "--without-gossip", "--without-mingle",
                "--loglevel", loglevel, "--hostname", f"{name}@%h"]  # fmt: skip
        self.start(name, argv, **extra_env)

    def kill(self, name: str, sig: int = signal.SIGKILL, timeout: float = 30.0) -> None:
        proc = self.procs.pop(name)
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        proc.wait(timeout=timeout)
        self.handles.pop(name).close()

    def stop_all(self, *, graceful: bool = False) -> None:
        """SIGTERM the API (and everything, with ``graceful``); SIGKILL the rest."""
        for name in list(self.procs):
            soft = graceful or name == "api"
            self.kill(name, signal.SIGTERM if soft else signal.SIGKILL, timeout=60.0 if soft else 30.0)

    def log_lines(self) -> dict[str, list[str]]:
        return {
            n: [ln for ln in p.read_text(errors="replace").splitlines() if ln.strip()]
            for n, p in self.logs.items()
        }


def base_env(tmp: Path, database_url: str, redis_url: str, **overrides: str) -> dict[str, str]:
    """The parent's environment without its ``CNS_*`` variables, plus fast fake models and JSON logs."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("CNS_")}
    env.update(
        {
            "PYTHONPATH": str(REPO),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "CNS_DATABASE_URL": database_url,
            "CNS_BROKER_URL": redis_url,
            "CNS_DATA_DIR": str(tmp / "data"),
            "CNS_MODELS__EMBEDDING_BACKEND": "fake",
            "CNS_MODELS__NLI_BACKEND": "fake",
            "CNS_LOG_FORMAT": "json",
            "CNS_SERVICE__RATE_LIMIT_PER_MINUTE": "0",
        }
    )
    env.update(overrides)
    return env


@contextmanager
def running_stack(
    tmp: Path,
    redis_url: str,
    *,
    db_prefix: str = "cns_test",
    graceful_stop: bool = False,
    **env_overrides: str,
) -> Iterator[Stack]:
    """A :class:`Stack` whose processes are stopped, and whose Redis DB flushed, on exit.

    Raises :class:`~cns.testing.services.ServiceUnavailableError` when Redis or PostgreSQL cannot
    be reached or started; callers decide whether that skips (outside CI) or fails.
    """
    ensure_redis(redis_url)
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        with temporary_postgres_database(prefix=db_prefix) as database_url:
            stack = Stack(base_env(tmp, database_url, redis_url, **env_overrides), tmp)
            try:
                yield stack
            finally:
                stack.stop_all(graceful=graceful_stop)
    finally:
        client.flushdb()
        client.close()


def parse_json_lines(lines: list[str]) -> list[dict[str, Any]]:
    """Each line as JSON; AssertionError quoting the first line that is not."""
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"log line is not JSON: {line[:200]!r}") from None
    return parsed
