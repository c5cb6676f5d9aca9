"""Loop hygiene for synthesis: attempt records with a cooldown, and a concurrency cap.

A loop that re-queues the best pairs on every pass synthesizes the same pairs forever
(docs/design-notes.md#loop-hygiene). An :class:`AttemptLog` remembers, per
unordered pair ``(min_id, max_id)``, when it was last tried and how it ended; a pair is eligible
again only after ``population.synthesis_cooldown_seconds``. The in-memory log serves one process;
the persistence layer implements the same protocol in SQL.

:class:`SynthesisLimiter` caps concurrent syntheses at ``population.max_concurrent_syntheses``
with a ``threading.BoundedSemaphore`` usable from threads (``with limiter.slot():``) and from
asyncio (``async with limiter.async_slot():`` waits in a worker thread, never blocking the loop).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, replace
from typing import Literal, Protocol, runtime_checkable

from cns.errors import CNSError
from cns.pairs.types import pair_key

Outcome = Literal["accepted", "rejected", "error"]


@dataclass(frozen=True)
class AttemptRecord:
    """The latest synthesis attempt of one unordered pair."""

    pair: tuple[str, str]
    attempts: int
    last_attempt_at: float  # seconds since the epoch (the log's clock)
    outcome: Outcome
    reason: str = ""
    result_sno_id: str | None = None


@runtime_checkable
class AttemptLog(Protocol):
    """Where attempt records live; ids may be given in either order."""

    cooldown_seconds: float

    def get(self, id_a: str, id_b: str) -> AttemptRecord | None: ...

    def record(
        self, id_a: str, id_b: str, outcome: Outcome, *, reason: str = "", result_sno_id: str | None = None
    ) -> AttemptRecord: ...

    def ready(self, id_a: str, id_b: str) -> bool:
        """True when the pair was never tried or its cooldown has elapsed."""
        ...


class InMemoryAttemptLog:
    """Thread-safe dict of attempt records; ``clock`` is injectable for tests."""

    def __init__(self, cooldown_seconds: float, *, clock: Callable[[], float] = time.time) -> None:
        if cooldown_seconds < 0:
            raise CNSError(f"cooldown_seconds must be >= 0, got {cooldown_seconds}")
        self.cooldown_seconds = cooldown_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._records: dict[tuple[str, str], AttemptRecord] = {}

    def get(self, id_a: str, id_b: str) -> AttemptRecord | None:
        with self._lock:
            return self._records.get(pair_key(id_a, id_b))

    def record(
        self, id_a: str, id_b: str, outcome: Outcome, *, reason: str = "", result_sno_id: str | None = None
    ) -> AttemptRecord:
        key = pair_key(id_a, id_b)
        with self._lock:
            previous = self._records.get(key)
            count = 1 if previous is None else previous.attempts + 1
            record = AttemptRecord(key, count, self._clock(), outcome, reason, result_sno_id)
            self._records[key] = record
            return record

    def ready(self, id_a: str, id_b: str) -> bool:
        record = self.get(id_a, id_b)
        return record is None or self._clock() - record.last_attempt_at >= self.cooldown_seconds

    def seconds_until_ready(self, id_a: str, id_b: str) -> float:
        record = self.get(id_a, id_b)
        if record is None:
            return 0.0
        return max(0.0, record.last_attempt_at + self.cooldown_seconds - self._clock())

    def records(self) -> list[AttemptRecord]:
        with self._lock:
            return [replace(r) for r in self._records.values()]


class SynthesisLimiter:
    """At most ``max_concurrent`` syntheses at once, across threads and asyncio tasks."""

    def __init__(self, max_concurrent: int) -> None:
        if max_concurrent < 1:
            raise CNSError(f"max_concurrent_syntheses must be >= 1, got {max_concurrent}")
        self.max_concurrent = max_concurrent
        self._semaphore = threading.BoundedSemaphore(max_concurrent)
        self._lock = threading.Lock()
        self._active = 0

    @property
    def active(self) -> int:
        return self._active

    def _enter(self) -> None:
        with self._lock:
            self._active += 1

    def _exit(self) -> None:
        with self._lock:
            self._active -= 1
        self._semaphore.release()

    @contextmanager
    def slot(self, timeout: float | None = None) -> Iterator[None]:
        """Hold one slot; raise :class:`CNSError` if none frees up within ``timeout`` seconds."""
        if not self._semaphore.acquire(timeout=timeout):
            raise CNSError(
                f"no synthesis slot free within {timeout} s "
                f"(population.max_concurrent_syntheses = {self.max_concurrent})"
            )
        self._enter()
        try:
            yield
        finally:
            self._exit()

    def try_acquire(self) -> bool:
        """Take a slot without waiting (release it with :meth:`release`)."""
        if self._semaphore.acquire(blocking=False):
            self._enter()
            return True
        return False

    def release(self) -> None:
        self._exit()

    @asynccontextmanager
    async def async_slot(self) -> AsyncIterator[None]:
        """Like :meth:`slot` for coroutines: the wait happens in a thread, the loop keeps running."""
        waiter = asyncio.ensure_future(asyncio.to_thread(self._semaphore.acquire))
        try:
            await asyncio.shield(waiter)
        except asyncio.CancelledError:
            # the thread may still win the semaphore after we gave up: hand that slot straight back
            waiter.add_done_callback(lambda f: self._semaphore.release() if not f.cancelled() else None)
            raise
        self._enter()
        try:
            yield
        finally:
            self._exit()
