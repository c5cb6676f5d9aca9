"""Celery signal handlers: JSON logging, the broker safety check, per-process warm-up, and
task/job ids bound on every line.

Connecting ``setup_logging`` stops Celery from installing its own handlers, so the worker's
lines (Celery's included) go through :func:`cns.logging_setup.configure_logging`. During a task,
``task_id``, ``task`` and — for job tasks, whose only argument is the job id — ``job_id`` are bound
as structlog context variables, so every line the task body logs carries them.
"""

from __future__ import annotations

import logging
from typing import Any

import structlog
from billiard.util import get_logger as billiard_logger
from celery import signals

from cns.config.settings import get_config
from cns.errors import ConfigError
from cns.logging_setup import configure_logging, get_logger
from cns.services.job_table import JOB_TASK_NAMES
from cns.worker.redis_guard import check_broker_at_startup
from cns.worker.runtime import get_runtime, reset_runtime

log = get_logger(__name__)

JOB_TASKS = JOB_TASK_NAMES
_BOUND = ("task_id", "task", "job_id")


def configure_process_logging(**_: Any) -> None:
    """JSON logging from config; also called by :func:`cns.worker.app.create_worker_app`, before
    Celery starts."""
    config = get_config()
    configure_logging(
        level=config.log_level, fmt=config.log_format, text_preview_chars=config.log_text_preview_chars
    )
    logging.captureWarnings(True)  # warnings become JSON log lines too, not raw stderr text
    # billiard's "multiprocessing" logger neither propagates nor has a handler, so its errors (e.g.
    # "Process 'ForkPoolWorker-1' exited with signal 9" after an OOM kill) reached stderr as raw
    # text through logging's last-resort handler; route them through the JSON root handler.
    billiard_logger().propagate = True


#: Exit status of a worker that refuses its configuration (``EX_CONFIG`` of sysexits.h).
EXIT_CONFIG = 78


def _refuse_unsafe_broker(**_: Any) -> None:
    """Before the pool starts: refuse a broker Redis that can lose tasks (prod profile, R19 in
    docs/reliability.md).

    Celery logs and swallows an ``Exception`` raised by a signal handler, so the refusal is a
    ``SystemExit``; the ``config.redis_unsafe`` event has been logged by then.
    """
    try:
        check_broker_at_startup(get_config(), "worker")
    except ConfigError as exc:
        log.critical("worker.refused", reason=exc.message[:500])
        raise SystemExit(EXIT_CONFIG) from exc


def _warm_up(**_: Any) -> None:
    configure_process_logging()
    try:
        get_runtime()
    except Exception as exc:  # the first task retries the build; a worker must not die here
        log.error("worker.init_failed", error=type(exc).__name__, reason=str(exc)[:300])


def _shutdown(**_: Any) -> None:
    reset_runtime()


def _bind(task_id: str | None = None, task: Any = None, args: Any = None, **_: Any) -> None:
    values: dict[str, Any] = {"task_id": task_id, "task": getattr(task, "name", None)}
    if getattr(task, "name", None) in JOB_TASKS and args:
        values["job_id"] = str(args[0])
    structlog.contextvars.bind_contextvars(**values)


def _unbind(**_: Any) -> None:
    structlog.contextvars.unbind_contextvars(*_BOUND)


def connect() -> None:
    """Connect the handlers (idempotent: Celery signals ignore a duplicate dispatch_uid)."""
    signals.setup_logging.connect(configure_process_logging, weak=False, dispatch_uid="cns.setup_logging")
    signals.celeryd_init.connect(_refuse_unsafe_broker, weak=False, dispatch_uid="cns.redis_guard")
    signals.worker_process_init.connect(_warm_up, weak=False, dispatch_uid="cns.warm_up")
    signals.worker_process_shutdown.connect(_shutdown, weak=False, dispatch_uid="cns.shutdown")
    signals.task_prerun.connect(_bind, weak=False, dispatch_uid="cns.bind")
    signals.task_postrun.connect(_unbind, weak=False, dispatch_uid="cns.unbind")
