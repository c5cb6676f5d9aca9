"""THE Celery app of CNS (``celery -A cns.tasks worker``, ``celery -A cns.tasks beat``).

Importing this module builds the worker's app once (:func:`cns.worker.app.create_worker_app`):
it configures logging, registers the tasks, connects the signal handlers and hands the app to
the worker runtime. The tasks themselves are defined in :mod:`cns.worker.app`; the job tasks
come from the job table (:mod:`cns.services.job_table`).
"""

from __future__ import annotations

from typing import Any

from cns.config.settings import get_config
from cns.worker.app import create_worker_app
from cns.worker.celery_app import (
    CANARY,
    EVALUATE_SNO,
    FIND_PAIRS,
    PROCESS_INGESTION,
    RECONCILE_JOBS,
    RESCORE_POPULATION,
    SEARCH_PAIRS,
    SYNTHESIZE_PAIR,
)

app = create_worker_app(get_config())
#: The same app under the name Celery's documentation uses.
celery_app = app

#: Module attribute → task name. Looked up lazily: reading ``app.tasks`` finalizes the app, and a
#: test app may still change task settings after importing this module.
_TASKS = {
    "process_ingestion": PROCESS_INGESTION,
    "synthesize_pair": SYNTHESIZE_PAIR,
    "rescore_population": RESCORE_POPULATION,
    "search_pairs": SEARCH_PAIRS,
    "evaluate_sno": EVALUATE_SNO,
    "find_pairs": FIND_PAIRS,
    "reconcile_jobs": RECONCILE_JOBS,
    "canary": CANARY,
}


def __getattr__(name: str) -> Any:
    if name in _TASKS:
        return app.tasks[_TASKS[name]]
    raise AttributeError(f"module 'cns.tasks' has no attribute {name!r}")


__all__ = ["app", "celery_app", *_TASKS]
