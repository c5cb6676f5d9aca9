"""The asyncio runner of ``cns loop`` (docs/design-notes.md#the-asyncio-runner).

* One ``asyncio.PriorityQueue`` of :class:`ProcessingTask` (synthesis before ingestion, then
  FIFO); producers use ``put_nowait``, so tasks are really enqueued.
* A synthesis loop finds pairs every ``synthesis_interval`` seconds (searching again only when
  the pairing population changed) and enqueues only the pairs that are out of cooldown and not
  already queued; a metrics loop logs what an operator
  watches (population, mean trust, queue size, processed and failed tasks, syntheses).
* Blocking work (models, database) runs in a worker thread, one task at a time, so the event
  loop stays responsive and the manager — which is not thread-safe — is never used concurrently.
* SIGINT / SIGTERM stop the loops gracefully: the running task finishes, then ``on_shutdown``
  (e.g. saving the vector index) runs exactly once. There is one shutdown path, not two.
"""

from __future__ import annotations

import asyncio
import itertools
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from cns.core.ids import stable_id
from cns.core.progress import INGEST, SYNTHESIS, ProgressCallback, no_progress
from cns.errors import CNSError
from cns.logging_setup import bound_context, get_logger

if TYPE_CHECKING:
    from cns.pairs import ChiralPair, PairSearchResult
    from cns.workflow.manager import CNSWorkflowManager

log = get_logger(__name__)


class Priority(IntEnum):
    SYNTHESIZE = 1
    INGEST = 2


@dataclass(order=True)
class ProcessingTask:
    """A unit of work; ordered by priority, then by submission order."""

    priority: int
    seq: int
    task_id: str = field(compare=False)
    kind: str = field(compare=False)
    payload: dict[str, Any] = field(compare=False, default_factory=dict)
    created_at: float = field(compare=False, default_factory=time.time)


@dataclass
class SystemMetrics:
    """The numbers an operator watches: population, mean trust, queue size, tasks and syntheses."""

    started_at: float = field(default_factory=time.time)
    processed: int = 0
    failed: int = 0
    successful_syntheses: int = 0
    failed_syntheses: int = 0
    active_syntheses: int = 0

    def snapshot(self, manager: CNSWorkflowManager, queue_size: int) -> dict[str, Any]:
        population = manager.population()
        trusts = [s.trust_score for s in population if s.trust_score is not None]
        uptime_h = max((time.time() - self.started_at) / 3600.0, 1e-9)
        attempted = self.successful_syntheses + self.failed_syntheses
        return {
            "total_snos": len(population),
            "average_trust_score": sum(trusts) / len(trusts) if trusts else 0.0,
            "queue_size": queue_size,
            "processed": self.processed,
            "failed": self.failed,
            "active_syntheses": self.active_syntheses,
            "successful_syntheses": self.successful_syntheses,
            "failed_syntheses": self.failed_syntheses,
            "synthesis_success_rate": self.successful_syntheses / attempted if attempted else 0.0,
            "processing_rate_per_hour": self.processed / uptime_h,
            "uptime_hours": uptime_h,
        }


class AsyncRunner:
    """Runs ingestion and synthesis continuously until stopped."""

    def __init__(
        self,
        manager: CNSWorkflowManager,
        *,
        synthesis_interval: float = 30.0,
        metrics_interval: float = 300.0,
        on_shutdown: Callable[[], None] | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        """``progress`` hears the queued documents and syntheses as they finish, and each pair
        scan's re-score and search stages (``cns loop`` draws them)."""
        self.manager = manager
        self.progress = progress
        self._submitted = {"ingest": 0, "synthesize": 0}
        self._finished = {"ingest": 0, "synthesize": 0}
        self.synthesis_interval = synthesis_interval
        self.metrics_interval = metrics_interval
        self.on_shutdown = on_shutdown
        self.metrics = SystemMetrics()
        self.queue: asyncio.PriorityQueue[ProcessingTask] = asyncio.PriorityQueue()
        self._seq = itertools.count()
        self._queued_pairs: set[tuple[str, str]] = set()
        self._last_search: tuple[str, PairSearchResult] | None = None
        #: scans that reused the last search because the population had not changed
        self.searches_skipped = 0
        self._stop = asyncio.Event()
        self._shut_down = False

    # ------------------------------------------------------------------ producers
    def submit_document(self, text: str, source: str, metadata: dict[str, Any] | None = None) -> str:
        task_id = "ingest_" + stable_id(source, text[:2000], length=16)
        self._put(
            Priority.INGEST, task_id, "ingest", {"text": text, "source": source, "metadata": metadata or {}}
        )
        return task_id

    def submit_pair(self, pair: ChiralPair) -> str | None:
        if pair.key in self._queued_pairs:
            return None
        self._queued_pairs.add(pair.key)
        task_id = f"synthesis_{pair.key[0][:8]}_{pair.key[1][:8]}"
        self._put(Priority.SYNTHESIZE, task_id, "synthesize", {"pair": pair})
        return task_id

    def _put(self, priority: Priority, task_id: str, kind: str, payload: dict[str, Any]) -> None:
        self.queue.put_nowait(ProcessingTask(int(priority), next(self._seq), task_id, kind, payload))
        self._submitted[kind] += 1
        self._tell(kind)

    def _tell(self, kind: str) -> None:
        """Report how many tasks of ``kind`` have finished (failed ones included) of those queued."""
        if self.progress is not None:
            step = INGEST if kind == "ingest" else SYNTHESIS
            self.progress(step, self._finished[kind], self._submitted[kind])

    def stop(self) -> None:
        """Ask the loops to finish (safe to call from a signal handler)."""
        self._stop.set()

    # ------------------------------------------------------------------ loops
    async def _handle(self, task: ProcessingTask) -> None:
        with bound_context(task_id=task.task_id):
            if task.kind == "ingest":
                p = task.payload
                await asyncio.to_thread(
                    self.manager.ingest_and_evaluate, p["text"], p["source"], p["metadata"]
                )
                return
            pair = task.payload["pair"]
            self._queued_pairs.discard(pair.key)
            self.metrics.active_syntheses += 1
            try:
                result = await asyncio.to_thread(self.manager.synthesize_pair, pair)
            finally:
                self.metrics.active_syntheses -= 1
            if result.skipped:
                return
            if result.accepted:
                self.metrics.successful_syntheses += 1
            else:
                self.metrics.failed_syntheses += 1

    async def _process_queue(self) -> None:
        while not self._stop.is_set():
            try:
                task = await asyncio.wait_for(self.queue.get(), timeout=0.2)
            except TimeoutError:
                continue
            try:
                await self._handle(task)
                self.metrics.processed += 1
            except CNSError as exc:
                self.metrics.failed += 1
                log.warning("runner.task_failed", task_id=task.task_id, kind=task.kind, error=exc.message)
            finally:
                self.queue.task_done()
                self._finished[task.kind] += 1
                self._tell(task.kind)

    async def _every(self, seconds: float, action: Callable[[], Any]) -> None:
        while not self._stop.is_set():
            try:
                await action()
            except CNSError as exc:
                log.warning("runner.loop_failed", error=exc.message)
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=seconds)
            except TimeoutError:
                continue

    async def _scan_pairs(self) -> None:
        if len(self.manager.population()) < 2:
            return
        result = await asyncio.to_thread(self._rescore_and_find)
        queued = [p for p in self.manager.synthesis_engine.pending(result.pairs) if self.submit_pair(p)]
        log.info("runner.pairs_queued", found=len(result.pairs), queued=len(queued))

    def _rescore_and_find(self) -> PairSearchResult:
        """The lifecycle's order, as in ``cns run`` and the service: re-score if the population
        grew since the last re-score, then find and record pairs.

        The last search's result is kept while the pairing population is unchanged (same
        narratives, statuses and trust: :func:`~cns.workflow.lifecycle.population_fingerprint`):
        searching again would judge the same pairs and find the same ones. Its pairs still go
        through the cooldown check each scan, so a pair whose cooldown ended is queued then.
        """
        from cns.workflow.lifecycle import find_and_record_pairs, population_fingerprint, rescore_if_due

        rescore_if_due(self.manager, progress=self.progress or no_progress)
        if self._last_search is not None and self._last_search[0] == population_fingerprint(self.manager):
            self.searches_skipped += 1
            return self._last_search[1]
        result = find_and_record_pairs(self.manager, progress=self.progress)
        # taken after the search: it may have archived narratives beyond ``population.size_limit``
        self._last_search = (population_fingerprint(self.manager), result)
        return result

    async def _log_metrics(self) -> None:
        snapshot = await asyncio.to_thread(self.metrics.snapshot, self.manager, self.queue.qsize())
        log.info("metrics.update", **snapshot)

    async def run(
        self, *, duration: float | None = None, install_signal_handlers: bool = True
    ) -> dict[str, Any]:
        """Run until :meth:`stop`, SIGINT/SIGTERM or ``duration`` seconds; returns final metrics."""
        loop = asyncio.get_running_loop()
        if install_signal_handlers:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, self.stop)
        if duration is not None:
            loop.call_later(duration, self.stop)
        log.info("runner.started", synthesis_interval=self.synthesis_interval)
        try:
            await asyncio.gather(
                self._process_queue(),
                self._every(self.synthesis_interval, self._scan_pairs),
                self._every(self.metrics_interval, self._log_metrics),
            )
        finally:
            if install_signal_handlers:
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.remove_signal_handler(sig)
            self._shutdown()
        return self.metrics.snapshot(self.manager, self.queue.qsize())

    def _shutdown(self) -> None:
        if self._shut_down:
            return
        self._shut_down = True
        if self.on_shutdown is not None:
            self.on_shutdown()
        log.info("runner.stopped", processed=self.metrics.processed, pending=self.queue.qsize())
