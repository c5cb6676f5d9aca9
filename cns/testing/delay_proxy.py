"""A TCP proxy that holds back the server's reply, for tests of client time limits.

A client's read timeout can only be tested against a real server if the server is reliably slower
than the limit. A tiny model on an idle machine may answer in a few milliseconds, so a test that
relies on generation time passes or fails with the machine's load. This proxy forwards the
request at once and delays every chunk of the reply by a fixed time, which makes "slower than the
timeout" a property of the test, not of the machine.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from types import TracebackType


class DelayProxy:
    """Listen on 127.0.0.1 and forward to ``upstream``, sleeping ``delay_seconds`` before each reply chunk."""

    def __init__(self, upstream_host: str, upstream_port: int, *, delay_seconds: float) -> None:
        self._upstream = (upstream_host, upstream_port)
        self._delay = delay_seconds
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self._stopped = threading.Event()
        self._threads: list[threading.Thread] = []
        self.port: int = self._listener.getsockname()[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> DelayProxy:
        self._spawn(self._accept_loop)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stopped.set()
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        thread.start()
        self._threads.append(thread)

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            server = socket.create_connection(self._upstream, timeout=30)
            self._spawn(self._pipe, client, server, 0.0)
            self._spawn(self._pipe, server, client, self._delay)

    def _pipe(self, source: socket.socket, target: socket.socket, delay: float) -> None:
        source.settimeout(0.2)
        try:
            while not self._stopped.is_set():
                try:
                    chunk = source.recv(65536)
                except TimeoutError:
                    continue
                if not chunk:
                    break
                if delay:
                    time.sleep(delay)
                target.sendall(chunk)
        except OSError:
            pass  # the other side closed: a client that timed out hangs up, which is the point
        finally:
            for end in (source, target):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()
