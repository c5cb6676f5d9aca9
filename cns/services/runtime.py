"""``build_runtime(config, role)``: what one process of the CLI, a worker or the API holds.

Every edge builds the product the same way — the store (SQLite under ``data_dir`` unless
``database_url`` is set), a workflow manager over it, and the one novelty reference index that
follows the store's change feed (:class:`~cns.index.reference.ReferenceIndex`) — and differs only
where its role needs it to, as the table :data:`ROLES` says:

* ``cli`` — one command at a time on the user's machine: the reference index is saved in
  ``data_dir/index/reference.faiss`` and loaded by the next command, so a command does not
  re-read every embedding; models load when a command first needs them.
* ``worker`` — a Celery worker process: the models are loaded now, so the first task does not
  pay for them; the reference index stays in memory (several workers never write one file) and is
  rebuilt from the store by the first task's sync.
* ``api`` — the HTTP service: waits for the database while it starts; loads no model until a
  request needs one, and never saves an index.

The broker is not the service layer's business: a worker or the API hands in its
:class:`~cns.ports.Publisher` (built on its Celery app under ``cns/worker/``).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Literal

from cns.config.settings import CNSConfig
from cns.errors import ConfigError, StoreError
from cns.index.corpus import CorpusIndex
from cns.index.reference import ReferenceIndex
from cns.logging_setup import get_logger
from cns.ports import Embedder, LLMClient, NLIModel, Publisher
from cns.services.leases import LeaseKeeper
from cns.store.sql import SQLStore
from cns.workflow.manager import CNSWorkflowManager

log = get_logger(__name__)

Role = Literal["cli", "worker", "api"]

#: How long the API waits for its database at start (it may start before the database does).
STORE_WAIT_SECONDS = 30.0


@dataclass(frozen=True)
class RoleProfile:
    """What differs between the processes that build a runtime."""

    #: save the reference index under ``data_dir`` and load it next time
    persist_index: bool
    #: load the embedder, NLI model and LLM client while building
    load_models: bool
    #: keep retrying to open the store this long while the database starts
    store_wait_seconds: float


ROLES: dict[str, RoleProfile] = {
    "cli": RoleProfile(persist_index=True, load_models=False, store_wait_seconds=0.0),
    "worker": RoleProfile(persist_index=False, load_models=True, store_wait_seconds=0.0),
    "api": RoleProfile(persist_index=False, load_models=False, store_wait_seconds=STORE_WAIT_SECONDS),
}


def reference_path(config: CNSConfig) -> Path:
    """Where the CLI saves the novelty reference index."""
    return config.data_dir / "index" / "reference.faiss"


@dataclass
class Runtime:
    """Everything one process needs; close it (or use ``with``) to save the index and close the store."""

    config: CNSConfig
    role: Role
    store: SQLStore
    manager: CNSWorkflowManager
    broker: Publisher | None = None
    #: False when the store was handed in (its owner closes it)
    owns_store: bool = True
    #: a worker's lease renewer and reconciler watch (:mod:`cns.services.leases`); None elsewhere
    leases: LeaseKeeper | None = None
    closed: bool = field(default=False)
    _corpus: CorpusIndex | None = field(default=None, repr=False)
    _corpus_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def publisher(self) -> Publisher:
        """The broker publisher a worker or the API handed in (the CLI has no broker)."""
        if self.broker is None:
            raise ConfigError(
                f"the {self.role} runtime has no broker publisher: pass publisher= to build_runtime"
            )
        return self.broker

    @property
    def reference(self) -> ReferenceIndex:
        """The novelty reference index (opened on first use)."""
        return self.manager.reference

    @property
    def corpus(self) -> CorpusIndex:
        """The hypotheses and claims a question is searched against, opened on first use (the CLI
        loads and saves them under ``data_dir/index/``, like the reference index)."""
        with self._corpus_lock:
            if self._corpus is None:
                folder = reference_path(self.config).parent if ROLES[self.role].persist_index else None
                self._corpus = CorpusIndex.open(self.store, self.manager.embedder, self.config, folder=folder)
            return self._corpus

    def close(self) -> None:
        if not self.closed:
            if self.leases is not None:
                self.leases.stop()
            self.manager.close()
            with self._corpus_lock:
                if self._corpus is not None and self._corpus.persisted:
                    self._corpus.save()
            if self.owns_store:
                self.store.close()
            self.closed = True

    def __enter__(self) -> Runtime:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def open_store(config: CNSConfig, wait_seconds: float = 0.0) -> SQLStore:
    """Open (and migrate) the store, retrying for ``wait_seconds`` while the database starts."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return SQLStore.open(config=config)
        except StoreError as exc:
            if time.monotonic() >= deadline:
                raise
            log.warning("runtime.waiting_for_database", reason=exc.message[:200])
            time.sleep(1.0)


def build_runtime(
    config: CNSConfig,
    role: Role,
    *,
    store: SQLStore | None = None,
    publisher: Publisher | None = None,
    embedder: Embedder | None = None,
    nli: NLIModel | None = None,
    llm: LLMClient | None = None,
) -> Runtime:
    """The runtime of one ``role`` process: store (opened unless given), manager, reference index.

    Models given here are used as they are (tests inject fakes); the others are built from
    ``config`` — now for a worker, on first use otherwise.
    """
    profile = ROLES.get(role)
    if profile is None:
        raise ConfigError(f"unknown runtime role {role!r}; use one of {', '.join(ROLES)}")
    if profile.persist_index:
        config.data_dir.mkdir(parents=True, exist_ok=True)
    owns_store = store is None
    the_store = store if store is not None else open_store(config, profile.store_wait_seconds)
    try:
        manager = CNSWorkflowManager(
            config,
            embedder=embedder,
            nli=nli,
            llm=llm,
            store=the_store,
            index_path=reference_path(config) if profile.persist_index else None,
        )
        if profile.load_models:
            manager.backends()  # loads the embedder, the NLI model and the LLM client
    except BaseException:
        if owns_store:
            the_store.close()
        raise
    return Runtime(config, role, the_store, manager, publisher, owns_store)
