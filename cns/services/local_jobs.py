"""Background jobs in the same process, for the single-machine interface (``cns ui``).

The service runs a job by publishing its id to a broker and letting a Celery worker run the job
table's handler. On one machine there is no broker, but the interface must submit uploads and
syntheses exactly as the API does (same routes, same job rows, same states to poll). So this
:class:`~cns.ports.Publisher` keeps the published ids in a queue and one thread runs them with
the same :func:`~cns.services.jobs.run_job` and the same handlers from the job table as the
worker. After a burst of ingestion it runs the sweep celery beat would run (re-score when the
population grew, then search pairs and schedule syntheses), so new documents find their pairs
without a beat process.

One thread is deliberate: the models are not shared between threads, and SQLite takes one
writer at a time anyway. Jobs still queued when the process stops stay PENDING in the store and
are run again at the next start (:meth:`LocalJobRunner.resume`).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cns.config.settings import CNSConfig
from cns.errors import BrokerUnavailable, CNSError
from cns.logging_setup import get_logger
from cns.services.job_kinds import FIND_PAIRS, INGEST
from cns.services.job_table import JOB_TABLE
from cns.services.jobs import fail_job, run_job
from cns.services.synthesis_jobs import sweep
from cns.store.sql import JobState, SQLStore
from cns.workflow.manager import CNSWorkflowManager

log = get_logger(__name__)

_STOP = "__stop__"
#: the pair search after ingestion waits this long for more jobs (an upload of many files is one burst)
SWEEP_DELAY_SECONDS = 0.5


@dataclass
class LocalJobRunner:
    """A :class:`~cns.ports.Publisher` that runs each published job in one background thread."""

    config: CNSConfig
    store: SQLStore
    manager: CNSWorkflowManager
    on_done: Callable[[str, dict[str, Any]], None] | None = None
    #: held while a job runs: the web pages take it before using the same models (near misses)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _queue: queue.Queue[tuple[str, tuple[str, ...]]] = field(default_factory=queue.Queue)
    _thread: threading.Thread | None = None
    _ingested_since_sweep: bool = False
    _marks: list[threading.Event] = field(default_factory=list)

    @property
    def publisher(self) -> LocalJobRunner:
        """The job context of the job table's handlers names the publisher; it is this runner."""
        return self

    # ------------------------------------------------------------------ the Publisher protocol
    def publish(self, task_name: str, *args: str, task_id: str | None = None) -> None:
        if self._thread is None or not self._thread.is_alive():
            raise BrokerUnavailable(f"the local job runner is not running; {task_name} was not started")
        self._queue.put((task_name, tuple(args)))

    def queue_depth(self) -> int | None:
        return self._queue.qsize()

    def ping(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            raise BrokerUnavailable("the local job runner is not running")

    def canary(self, timeout: float) -> None:
        self.ping()

    # ------------------------------------------------------------------ lifetime
    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._loop, name="cns-local-jobs", daemon=True)
            self._thread.start()

    def resume(self) -> int:
        """Queue the jobs a previous run left unfinished (PENDING or STARTED); how many."""
        count = 0
        for state in (JobState.STARTED, JobState.PENDING):
            for job in self.store.list_jobs(state=state):
                row = JOB_TABLE.get(job.kind)
                if row is not None:
                    self.publish(row.task_name, job.job_id)
                    count += 1
        return count

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the job in hand, then stop (queued jobs stay PENDING in the store)."""
        if self._thread is not None and self._thread.is_alive():
            self._queue.put((_STOP, ()))
            self._thread.join(timeout)

    def wait_idle(self, timeout: float) -> bool:
        """Block until every published job has run (tests and scripts); False on timeout."""
        done = threading.Event()
        self._queue.put(("__mark__", ()))
        self._marks.append(done)
        return done.wait(timeout)

    # ------------------------------------------------------------------ the worker thread
    def _loop(self) -> None:
        while True:
            try:
                task_name, args = self._queue.get(timeout=SWEEP_DELAY_SECONDS)
            except queue.Empty:
                if self._ingested_since_sweep:
                    self._ingested_since_sweep = False
                    self._run(FIND_PAIRS, ())
                continue
            if task_name == _STOP:
                return
            if task_name == "__mark__":
                if self._ingested_since_sweep and self._queue.empty():
                    self._ingested_since_sweep = False
                    self._run(FIND_PAIRS, ())
                if self._queue.empty() and self._marks:
                    self._marks.pop(0).set()
                else:
                    self._queue.put((task_name, args))
                continue
            self._run(task_name, args)

    def _run(self, task_name: str, args: tuple[str, ...]) -> None:
        with self.lock:
            self._run_locked(task_name, args)

    def _run_locked(self, task_name: str, args: tuple[str, ...]) -> None:
        try:
            if task_name == FIND_PAIRS:
                result = sweep(store=self.store, publisher=self, config=self.config, manager=self.manager)
            else:
                result = self._run_job(task_name, args[0])
        except Exception as exc:  # one failed job must never stop the runner
            log.exception("local_jobs.failed", task=task_name)
            if task_name != FIND_PAIRS and args:
                reason = exc.message if isinstance(exc, CNSError) else str(exc)
                fail_job(self.store, args[0], f"{type(exc).__name__}: {reason}"[:2000])
            return
        if self.on_done is not None:
            self.on_done(task_name, result)

    def _run_job(self, task_name: str, job_id: str) -> dict[str, Any]:
        row = next((r for r in JOB_TABLE.values() if r.task_name == task_name), None)
        if row is None:
            log.warning("local_jobs.unknown_task", task=task_name)
            return {}
        job = run_job(
            self.store, job_id, max_deliveries=self.config.celery.max_deliveries, handler=row.handler(self)
        )
        if row.kind == INGEST and job.state is JobState.SUCCESS:
            self._ingested_since_sweep = True
        return {"job_id": job.job_id, "state": job.state.value}
