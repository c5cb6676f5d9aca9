"""Job leases: a running job belongs to the worker process that renews its lease.

Why leases: when a worker dies (its child OOM-killed, the whole container SIGKILLed), nothing
tells the rest of the service, and its message sits in the broker's ``unacked`` set until the
visibility timeout (an hour by default). A lease turns "silent" into "expired" within seconds:
the worker renews it every ``celery.lease_renew_seconds``, the reconciler hands a job whose
lease ran out (``celery.lease_seconds``) to another worker.

Why fencing: a worker that was only *slow* (frozen by SIGSTOP, a long GC pause, a stalled
disk) also stops renewing, and wakes up later believing it still owns the job. Every claim
raises the job's ``lease_token``; the final write of a delivery (the SNO and the job's SUCCESS,
or its FAILURE) carries the token it claimed with and is refused when the job has been claimed
again since. The late worker's result is logged and dropped (``job.fenced``); the job's
outcome is the one of the worker that took over, written once.

:class:`LeaseKeeper` renews from a small daemon thread of its own, so the renewals go on while
the task's thread is busy in a model call or a CPU-bound loop (the interpreter switches threads
every few milliseconds; native model code releases the lock while it computes). It also runs
the process's periodic duties (the reconciler watch of :mod:`cns.services.reconcile`) on a
second thread, so a long duty never delays a renewal.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from cns.core.records import JobRecord, LeaseTerms
from cns.logging_setup import get_logger
from cns.ports import JobRepository

log = get_logger(__name__)


def process_holder() -> str:
    """The lease owner name of this process: ``host:pid`` (what the worker main process also
    computes for a child it saw die, see :mod:`cns.worker.job_request`)."""
    return holder_name(socket.gethostname(), os.getpid())


def holder_name(host: str, pid: int) -> str:
    return f"{host}:{pid}"


@dataclass
class Lease:
    """The lease of one running delivery: the token its final write must carry."""

    job_id: str
    token: int
    lost: threading.Event = field(default_factory=threading.Event)


class Periodic:
    """A daemon thread that calls ``action`` every ``every`` seconds until stopped; never raises."""

    def __init__(self, name: str, action: Callable[[], object], every: float) -> None:
        self.name = name
        self.action = action
        self.every = every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.action()
            except Exception as exc:  # a periodic duty logs and tries again next period
                log.warning(
                    "periodic.failed", thread=self.name, error=type(exc).__name__, reason=str(exc)[:300]
                )


class LeaseKeeper:
    """Holds and renews the leases of the jobs this process runs; runs its periodic duties."""

    def __init__(
        self,
        jobs: JobRepository,
        *,
        seconds: float,
        renew_every: float,
        holder: str | None = None,
        duties: Sequence[tuple[str, Callable[[], object], float]] = (),
    ) -> None:
        self.jobs = jobs
        self.terms = LeaseTerms(holder=holder or process_holder(), seconds=seconds)
        self._held: dict[tuple[str, int], Lease] = {}
        self._lock = threading.Lock()
        self._renewer = Periodic("cns-lease-renewer", self.renew_all, renew_every)
        self._duties = [Periodic(name, action, every) for name, action, every in duties]

    def start(self) -> None:
        """Start the renewal thread and the duties (again after a fork: threads do not survive one)."""
        self._renewer.start()
        for duty in self._duties:
            duty.start()

    def stop(self) -> None:
        for thread in (self._renewer, *self._duties):
            thread.stop()

    @contextmanager
    def hold(self, job: JobRecord) -> Iterator[Lease]:
        """Renew ``job``'s lease (as claimed, with its token) while the block runs.

        A block that raises gives the lease up (the job stays reserved for one lease period, see
        :meth:`~cns.ports.JobRepository.release_lease`), so the task's retry can claim the job at
        once; a block that returns has written the job's outcome, and the lease ends with it.
        """
        lease = Lease(job.job_id, job.lease_token)
        key = (lease.job_id, lease.token)
        with self._lock:
            self._held[key] = lease
        self._renewer.start()
        try:
            yield lease
        except BaseException:
            self._release(lease)
            raise
        finally:
            with self._lock:
                self._held.pop(key, None)

    def renew_all(self) -> None:
        """Renew every held lease once (the renewal thread calls this every period)."""
        with self._lock:
            leases = [(key, lease) for key, lease in self._held.items() if not lease.lost.is_set()]
        for key, lease in leases:
            try:
                renewed = self.jobs.renew_lease(lease.job_id, lease.token, seconds=self.terms.seconds)
            except Exception as exc:  # the database is away: try again next period
                log.warning("job.lease_renew_failed", job_id=lease.job_id, error=type(exc).__name__)
                continue
            with self._lock:
                ended = key not in self._held  # the delivery finished while this renewal ran
            if not renewed and not ended and not self._finished_by_holder(lease):
                lease.lost.set()
                log.warning(
                    "job.lease_lost", job_id=lease.job_id, lease_token=lease.token, holder=self.terms.holder,
                    reason="the job was handed to another worker, finished or requeued while this one held it",
                )  # fmt: skip

    def _finished_by_holder(self, lease: Lease) -> bool:
        """Whether this very delivery wrote the job's final state (its token, a finished state).

        A renewal can run between the delivery's final write and the end of its ``hold``: the
        job is then finished under our own token, which is not a lost lease and must not be
        reported as one.
        """
        try:
            job = self.jobs.get_job(lease.job_id)
        except Exception:  # the database is away: treat as lost, the final write is fenced anyway
            return False
        return job is not None and job.lease_token == lease.token and job.state.terminal

    def _release(self, lease: Lease) -> None:
        try:
            self.jobs.release_lease(lease.job_id, lease.token, reserve_seconds=self.terms.seconds)
        except Exception as exc:  # the lease then simply runs out; the reconciler hands the job on
            log.warning("job.lease_release_failed", job_id=lease.job_id, error=type(exc).__name__)
