"""A circuit breaker for an HTTP model endpoint that is down.

Why: retries with backoff are right for a server that hiccups, wrong for one that is not running.
Without a breaker, every document and every synthesis spends its own retry cycle rediscovering the
same outage (the 73 s for two documents a user reported). Once a call could not connect at all,
the breaker is open: later calls fail at once, with the reason, until ``reset_seconds`` pass and
one call may try again.
"""

from __future__ import annotations

import threading
import time

from cns.errors import ModelUnavailableError
from cns.logging_setup import get_logger

log = get_logger(__name__)


class CircuitBreaker:
    """Thread-safe; ``reset_seconds <= 0`` turns it off."""

    def __init__(self, reset_seconds: float) -> None:
        self.reset_seconds = reset_seconds
        self._open_until = 0.0
        self._reason = ""
        self._lock = threading.Lock()

    def check(self, url: str, model: str) -> None:
        """Raise :class:`ModelUnavailableError` while the circuit is open."""
        with self._lock:
            remaining = self._open_until - time.monotonic()
            reason = self._reason
        if remaining > 0:
            raise ModelUnavailableError(
                f"LLM endpoint {url} was unreachable moments ago ({reason}); not trying again for "
                f"{remaining:.0f} s (llm.circuit_reset_seconds). Start the server or check llm.base_url",
                url=url,
                model=model,
                circuit_open=True,
            )

    def trip(self, url: str, reason: str) -> None:
        """Open the circuit after a call that could not connect at all."""
        if self.reset_seconds <= 0:
            return
        with self._lock:
            self._open_until = time.monotonic() + self.reset_seconds
            self._reason = reason[:200]
        log.warning("llm.circuit_open", url=url, seconds=self.reset_seconds)
