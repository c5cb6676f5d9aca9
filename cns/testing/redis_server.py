"""A private ``redis-server`` process for tests that crash, freeze or reconfigure their broker.

The shared test Redis (127.0.0.1:6379) must not be frozen or killed, so fault tests get their own
server on a free port, with a data directory they own and the persistence settings they ask for.
:meth:`RedisServer.restart` reuses the directory, so an AOF written before a crash is replayed.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from contextlib import suppress
from pathlib import Path

import redis

from cns.testing.services import ServiceUnavailableError

#: The settings a broker needs so it cannot lose queued work (cns/worker/redis_guard.py): nothing
#: evicted, every write appended to disk.
SAFE_ARGS = ("--appendonly", "yes", "--appendfsync", "everysec", "--maxmemory-policy", "noeviction")
#: A throw-away broker: a restart forgets every queued message (the R18 negative control).
VOLATILE_ARGS = ("--appendonly", "no", "--save", "", "--maxmemory-policy", "noeviction")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """``redis-server`` on 127.0.0.1 and a free port, data in ``directory``."""

    def __init__(self, directory: Path, *args: str, port: int | None = None) -> None:
        if shutil.which("redis-server") is None:
            raise ServiceUnavailableError("redis-server is not installed (apt-get install redis-server)")
        self.directory = directory
        self.args = args or SAFE_ARGS
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = directory / f"redis-{self.port}.log"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise RuntimeError("the Redis server is not running")
        return self.proc.pid

    def client(self, timeout: float = 2.0) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=timeout, socket_connect_timeout=timeout)

    def start(self, timeout: float = 10.0) -> RedisServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
                "--logfile", str(self.log), *self.args]  # fmt: skip
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServiceUnavailableError(f"redis-server exited at start: {self.log.read_text()[-500:]}")
            if self.answers():
                return self
            time.sleep(0.05)
        raise ServiceUnavailableError(f"redis-server on port {self.port} did not answer within {timeout} s")

    def answers(self) -> bool:
        client = self.client(timeout=0.5)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def crash(self) -> None:
        """SIGKILL: no shutdown save, no final fsync (a power cut or an OOM kill)."""
        self._signal(signal.SIGKILL)

    def shutdown(self) -> None:
        self._signal(signal.SIGTERM)

    def freeze(self) -> None:
        """SIGSTOP: the port still accepts connections but nothing answers (a silent peer)."""
        if self.proc is not None:
            os.kill(self.proc.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        if self.proc is not None:
            os.kill(self.proc.pid, signal.SIGCONT)

    def restart(self, *args: str) -> RedisServer:
        """Start again on the same port and directory (optionally with other settings)."""
        if args:
            self.args = args
        return self.start()

    def _signal(self, sig: int) -> None:
        if self.proc is None:
            return
        with suppress(ProcessLookupError):
            os.kill(self.proc.pid, signal.SIGCONT)  # a frozen server cannot act on SIGTERM
            os.kill(self.proc.pid, sig)
        self.proc.wait(timeout=30)
        self.proc = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.crash()
