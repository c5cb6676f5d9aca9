"""What one worker process holds: the worker runtime (store, models, publisher) — built once per process.

The runtime itself is :func:`cns.services.runtime.build_runtime` with the ``worker`` role, the
same builder the CLI and the API use; this module only keeps one per process. Models are loaded
once per *process*, not per task (loading an NLI model takes seconds) and not at import time:
:func:`get_runtime` builds the runtime lazily and rebuilds it after a fork (a prefork child must
not reuse the parent's database connections). ``worker_process_init`` calls it, so the first task
does not pay for model loading. Nothing here is population state: the store is shared, and the
manager's reference index follows the store's change feed, so every worker scores against the
same population.

Each process also keeps a :class:`~cns.services.leases.LeaseKeeper`: a thread that renews the
lease of the job this process runs, and one that watches for a reconciler sweep overdue (beat
dead) and then runs one. Both start with the runtime, in the process that uses it (threads do
not survive a fork).

The Celery app is *given* to this module (:func:`bind_app`, called by
:func:`cns.worker.app.create_worker_app`): the runtime's publisher sends follow-up jobs through
the worker's own app, and importing this module builds no app, connects no signal and leaves
logging alone.

A worker searches one query per task; the faiss index runs such searches on one OpenMP thread
(:func:`~cns.index.faiss_index.search_threads`), scoped to the search so the NLI model keeps its
threads (faiss and torch share the OpenMP runtime).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cns.config.settings import CNSConfig, get_config
from cns.errors import ConfigError
from cns.logging_setup import get_logger
from cns.services.leases import LeaseKeeper
from cns.services.reconcile import reconcile_if_overdue
from cns.services.runtime import Runtime, build_runtime
from cns.store.sql import SQLStore
from cns.worker.celery_app import QUEUE
from cns.worker.publisher import CeleryPublisher

if TYPE_CHECKING:
    from celery import Celery

log = get_logger(__name__)


@dataclass(frozen=True)
class _Held:
    """This process's runtime and the pid that built it (a forked child builds its own)."""

    runtime: Runtime
    pid: int


_lock = threading.Lock()
_held: _Held | None = None
_app: Celery | None = None


def bind_app(app: Celery) -> None:
    """Use ``app`` to publish the follow-up jobs of this process's runtime (the worker's own app)."""
    global _app
    with _lock:
        _app = app


def build_worker_runtime(config: CNSConfig, app: Celery) -> Runtime:
    """The ``worker`` runtime of ``config``, publishing follow-up jobs through ``app``."""
    log.info("worker.initializing_cns_manager", pid=os.getpid())
    publisher = CeleryPublisher(app, deadline_seconds=config.service.publish_timeout_seconds, queue=QUEUE)
    runtime = build_runtime(config, "worker", publisher=publisher)
    runtime.leases = lease_keeper(config, runtime.store, publisher)
    log.info("worker.cns_manager_initialized", pid=os.getpid(), backends=runtime.manager.backends())
    return runtime


def lease_keeper(config: CNSConfig, store: SQLStore, publisher: CeleryPublisher) -> LeaseKeeper:
    """This process's lease renewer, with the reconciler watch as its periodic duty.

    The watch looks every half reconcile interval; it sweeps only when no sweep (beat's or
    another worker's) started for two intervals, so with a live beat it costs one small
    conditional update per look.
    """
    c = config.celery

    def watch() -> None:
        reconcile_if_overdue(store=store, publisher=publisher, config=config)

    every = c.reconcile_interval_seconds / 2
    return LeaseKeeper(
        store.jobs, seconds=c.lease_seconds, renew_every=c.lease_renew_seconds,
        duties=[("cns-reconcile-watch", watch, every)],
    )  # fmt: skip


def get_runtime() -> Runtime:
    """This process's runtime, built on first use (and again in a forked child)."""
    global _held
    with _lock:
        if _held is None or _held.pid != os.getpid():
            if _app is None:
                raise ConfigError(
                    "the worker runtime has no Celery app: build the worker with "
                    "cns.worker.app.create_worker_app(config) (or run `celery -A cns.tasks worker`)"
                )
            _held = _Held(build_worker_runtime(get_config(), _app), os.getpid())
            if _held.runtime.leases is not None:
                _held.runtime.leases.start()
        return _held.runtime


def reset_runtime() -> None:
    """Close and forget the runtime (tests, worker shutdown)."""
    global _held
    with _lock:
        if _held is not None and _held.pid == os.getpid():
            _held.runtime.close()
        _held = None
