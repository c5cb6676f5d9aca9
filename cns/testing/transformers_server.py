"""Start ``transformers serve`` — a real OpenAI-compatible server this project did not write — for tests.

The fake server (:mod:`cns.testing.fake_openai_server`) scripts faults; this one shows that the
client works against someone else's implementation of the protocol: its routing, its model list,
its error bodies, what it does with fields it does not support. It runs as a child process on a
free local port, with ``HF_HUB_OFFLINE=1`` so nothing is ever downloaded, and is killed on close.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

#: What ``transformers serve`` needs besides transformers and torch (all in the ``dev`` extra).
SERVE_REQUIREMENTS = ("fastapi", "uvicorn", "openai", "accelerate")


def missing_serve_requirements() -> list[str]:
    """Packages missing for ``transformers serve`` (empty when it can run)."""
    return [name for name in ("transformers", *SERVE_REQUIREMENTS) if importlib.util.find_spec(name) is None]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TransformersServe:
    """``transformers serve MODEL_DIR`` on 127.0.0.1; use as a context manager."""

    def __init__(self, model_dir: Path, *, log_path: Path, startup_timeout: float = 600.0) -> None:
        self.model_dir = model_dir
        self.log_path = log_path
        self.startup_timeout = startup_timeout
        self.port = _free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def model(self) -> str:
        """The model id the server lists and expects (the folder it was started with)."""
        return str(self.model_dir)

    def start(self) -> TransformersServe:
        env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
        }
        command = [sys.executable, "-m", "transformers.cli.transformers", "serve", self.model]
        command += [
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--device",
            "cpu",
            "--log-level",
            "warning",
        ]
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"transformers serve exited with {self._process.returncode}: {self._log_tail()}"
                )
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=1.0).is_success:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.25)
        self.kill()
        raise RuntimeError(
            f"transformers serve did not answer within {self.startup_timeout} s: {self._log_tail()}"
        )

    def kill(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s); a no-op once stopped."""
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
        except OSError:
            return "(no log)"

    def __enter__(self) -> TransformersServe:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.kill()
