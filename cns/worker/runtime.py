"""What one worker process holds: the store, the models and a publisher — built once per process.

Models are loaded once per *process*, not per task (loading an NLI model takes seconds) and not
at import time: :func:`get_runtime` builds the runtime lazily and rebuilds it after a fork (a
prefork child must not reuse the parent's database connections). ``worker_process_init`` calls
it, so the first task does not pay for model loading. Nothing here is population state: the
store is shared, and the manager's reference index is a synced cache of it, so every worker
scores against the same population.

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
from cns.models import load_embedder, load_llm, load_nli
from cns.services.leases import LeaseKeeper
from cns.services.reconcile import reconcile_if_overdue
from cns.services.shared_state import SharedStateManager
from cns.store.sql import SQLStore
from cns.worker.celery_app import QUEUE
from cns.worker.publisher import CeleryPublisher

if TYPE_CHECKING:
    from celery import Celery

log = get_logger(__name__)


@dataclass
class WorkerRuntime:
    config: CNSConfig
    store: SQLStore
    manager: SharedStateManager
    publisher: CeleryPublisher
    pid: int
    leases: LeaseKeeper

    def close(self) -> None:
        self.leases.stop()
        self.store.close()


_lock = threading.Lock()
_runtime: WorkerRuntime | None = None
_app: Celery | None = None


def bind_app(app: Celery) -> None:
    """Use ``app`` to publish the follow-up jobs of this process's runtime (the worker's own app)."""
    global _app
    with _lock:
        _app = app


def build_runtime(config: CNSConfig, app: Celery) -> WorkerRuntime:
    """Open the store, load the models and wrap ``app`` in a publisher."""
    log.info("worker.initializing_cns_manager", pid=os.getpid())
    store = SQLStore.open(config=config)
    manager = SharedStateManager(
        config,
        store=store,
        embedder=load_embedder(config),
        nli=load_nli(config=config),
        llm=load_llm(config),
    )
    publisher = CeleryPublisher(app, deadline_seconds=config.service.publish_timeout_seconds, queue=QUEUE)
    log.info("worker.cns_manager_initialized", pid=os.getpid(), backends=manager.backends())
    return WorkerRuntime(
        config, store, manager, publisher, os.getpid(), lease_keeper(config, store, publisher)
    )


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


def get_runtime() -> WorkerRuntime:
    """This process's runtime, built on first use (and again in a forked child)."""
    global _runtime
    with _lock:
        if _runtime is None or _runtime.pid != os.getpid():
            if _app is None:
                raise ConfigError(
                    "the worker runtime has no Celery app: build the worker with "
                    "cns.worker.app.create_worker_app(config) (or run `celery -A cns.tasks worker`)"
                )
            _runtime = build_runtime(get_config(), _app)
            _runtime.leases.start()
        return _runtime


def reset_runtime() -> None:
    """Close and forget the runtime (tests, worker shutdown)."""
    global _runtime
    with _lock:
        if _runtime is not None and _runtime.pid == os.getpid():
            _runtime.close()
        _runtime = None
