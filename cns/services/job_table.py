"""The one table of background work: job kind → task name → handler.

Everything that needs to know "which task runs a job of this kind, and what does it call" reads
this table: submitting (:mod:`cns.services.jobs`, :mod:`cns.services.synthesis_jobs`),
re-publishing lost jobs (:mod:`cns.services.reconcile`) and the worker, which registers one
Celery task per row (:mod:`cns.worker.app`). Adding a kind of job is one row here.

A handler is built per delivery from a :class:`JobContext` (the worker runtime: store, manager,
publisher and config), so the table holds no state and imports no broker library.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from cns.config.settings import CNSConfig
from cns.ports import Publisher
from cns.services.job_kinds import (
    INGEST,
    PAIR_SEARCH,
    PROCESS_INGESTION,
    RESCORE,
    RESCORE_POPULATION,
    SEARCH_PAIRS,
    SYNTHESIZE,
    SYNTHESIZE_PAIR,
)
from cns.services.jobs import JobHandler
from cns.services.synthesis_jobs import pair_search_job_handler, rescore_job_handler, synthesize_job_handler
from cns.store.sql import SQLStore
from cns.workflow.manager import CNSWorkflowManager


class JobContext(Protocol):
    """What a handler may use; the worker's runtime provides it."""

    @property
    def config(self) -> CNSConfig: ...

    @property
    def store(self) -> SQLStore: ...

    @property
    def manager(self) -> CNSWorkflowManager: ...

    @property
    def publisher(self) -> Publisher: ...


@dataclass(frozen=True)
class JobKind:
    """One row: the job kind, the task that carries it, and how to build its handler."""

    kind: str
    task_name: str
    summary: str
    handler: Callable[[JobContext], JobHandler]


def _ingest(context: JobContext) -> JobHandler:
    return context.manager.ingest_job


def _synthesize(context: JobContext) -> JobHandler:
    return synthesize_job_handler(context.store, context.manager, context.config)


def _rescore(context: JobContext) -> JobHandler:
    return rescore_job_handler(context.store, context.manager, context.publisher, context.config)


def _pair_search(context: JobContext) -> JobHandler:
    return pair_search_job_handler(context.store, context.manager, context.publisher, context.config)


JOB_TABLE: dict[str, JobKind] = {
    row.kind: row
    for row in (
        JobKind(
            INGEST,
            PROCESS_INGESTION,
            "Turn the document of an ``ingest`` job into an evaluated, stored SNO.",
            _ingest,
        ),
        JobKind(
            SYNTHESIZE,
            SYNTHESIZE_PAIR,
            "Synthesize the pair of a ``synthesize`` job (cooldown and attempts from the database).",
            _synthesize,
        ),
        JobKind(
            RESCORE,
            RESCORE_POPULATION,
            "Re-score the grown population (a ``rescore`` job), then find pairs and schedule syntheses.",
            _rescore,
        ),
        JobKind(
            PAIR_SEARCH,
            SEARCH_PAIRS,
            "Search pairs now (a ``pair_search`` job): re-score if the population grew, find pairs, "
            "schedule syntheses.",
            _pair_search,
        ),
    )
}

#: Task names whose only argument is a job id (the worker fails the job row when such a task dies).
JOB_TASK_NAMES: frozenset[str] = frozenset(row.task_name for row in JOB_TABLE.values())


def task_for_kind(kind: str) -> str | None:
    """The task name of a job kind, or None for a kind this version does not run."""
    row = JOB_TABLE.get(kind)
    return None if row is None else row.task_name
