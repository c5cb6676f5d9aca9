"""Build the Celery app from :class:`CNSConfig` with the reliability baseline of docs/reliability.md.

Why each setting (the short version; docs/deployment.md has the long one):

* ``task_acks_late`` + ``task_reject_on_worker_lost``: a task whose worker process dies (OOM,
  SIGKILL) is redelivered instead of being acked and lost; the per-job delivery counter in the
  database (``max_deliveries``) stops a poison document from looping forever.
* ``worker_prefetch_multiplier`` (1): only running tasks are reserved, so a crash loses nothing
  that was merely waiting in a worker's buffer.
* the visibility timeout is set in all three places Celery/kombu read it (each reads its own
  copy), and the hard time limit is validated below it by the config, so Redis never redelivers
  a running task.
* JSON only, task arguments are job ids: untrusted bytes never reach pickle and messages stay
  small; the job table, not the result backend, is the record of what happened.
* socket timeouts + ``health_check_interval``: a silent (half-open) Redis is detected instead of
  hanging a publish or a consumer forever; ``worker_cancel_long_running_tasks_on_connection_loss``
  avoids running an acks_late task twice in parallel after a reconnect.
"""

from __future__ import annotations

from typing import Any, Literal

from celery import Celery

from cns.config.settings import CNSConfig
from cns.services.job_kinds import (
    EVALUATE_SNO,
    FIND_PAIRS,
    PROCESS_INGESTION,
    RECONCILE_JOBS,
    RESCORE_POPULATION,
    SEARCH_PAIRS,
    SYNTHESIZE_PAIR,
)

APP_NAME = "cns_tasks"
QUEUE = "cns"
Role = Literal["worker", "api"]

#: The readiness probe's task (no job row behind it; it only answers through the broker). The
#: other task names live with the job table (:mod:`cns.services.job_kinds`), re-exported here.
CANARY = "cns.canary"

__all__ = [
    "CANARY",
    "EVALUATE_SNO",
    "FIND_PAIRS",
    "PROCESS_INGESTION",
    "QUEUE",
    "RECONCILE_JOBS",
    "RESCORE_POPULATION",
    "SEARCH_PAIRS",
    "SYNTHESIZE_PAIR",
    "celery_settings",
    "make_celery",
    "transport_options",
]

#: Seconds between the restore sweeps of unacked messages (kombu >= 5.7 honours it; older ignore it).
UNACKED_RESTORE_INTERVAL = 10


#: Redis key (on the broker) where the canary task leaves its answer for ``/readyz``.
CANARY_KEY = "cns:canary:{token}"
CANARY_TTL_SECONDS = 60


def transport_options(config: CNSConfig, role: Role) -> dict[str, Any]:
    """Redis transport options; the API gets short socket timeouts so a publish never hangs."""
    socket_timeout = config.service.publish_timeout_seconds if role == "api" else 30.0
    options: dict[str, Any] = {
        "visibility_timeout": config.celery.visibility_timeout_seconds,
        "socket_timeout": socket_timeout,
        "socket_connect_timeout": min(socket_timeout, 2.0),
        "socket_keepalive": True,
        "health_check_interval": 10,
        "retry_on_timeout": False,
        "unacked_restore_interval": UNACKED_RESTORE_INTERVAL,
        "unacked_restore_throttle": 1,
    }
    if role == "api":
        # kombu's default_channel otherwise retries connecting ~forever before a publish even starts
        options.update(
            max_retries=1, interval_start=0, interval_step=0.2, interval_max=0.2,
            connect_retries_timeout=config.service.publish_timeout_seconds,
        )  # fmt: skip
    return options


def celery_settings(config: CNSConfig, role: Role = "worker") -> dict[str, Any]:
    """The Celery configuration mapping (pure: unit tests assert on it)."""
    c = config.celery
    options = transport_options(config, role)
    return {
        "broker_url": config.broker_url,
        "result_backend": config.result_backend,  # optional cache only: job state lives in the database
        "broker_transport_options": options,
        "result_backend_transport_options": {
            **options,
            # the Redis result backend reconnects 20 times (~19 s) by default; only the canary waits on it
            "retry_policy": {
                "max_retries": 1 if role == "api" else 20,
                "interval_start": 0,
                "interval_step": 0.2 if role == "api" else 1,
                "interval_max": 1,
            },
        },
        "visibility_timeout": c.visibility_timeout_seconds,
        "broker_connection_retry_on_startup": True,
        "broker_connection_timeout": options["socket_connect_timeout"],
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        "task_ignore_result": True,
        "result_expires": 300,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_acks_on_failure_or_timeout": True,
        "worker_prefetch_multiplier": c.prefetch_multiplier,
        "worker_concurrency": c.worker_concurrency,
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        "worker_soft_shutdown_timeout": float(min(c.task_time_limit_seconds, 60)),
        "worker_hijack_root_logger": False,
        "worker_redirect_stdouts": False,
        "task_soft_time_limit": c.task_soft_time_limit_seconds,
        "task_time_limit": c.task_time_limit_seconds,
        "task_default_queue": QUEUE,
        "task_publish_retry": False,  # the API's publisher retries itself, under one deadline
        "task_track_started": False,
        "timezone": "UTC",
        "enable_utc": True,
        "beat_schedule": {
            "find-pairs": {"task": FIND_PAIRS, "schedule": c.find_pairs_interval_seconds},
            "reconcile-jobs": {"task": RECONCILE_JOBS, "schedule": c.reconcile_interval_seconds},
        },
    }


def make_celery(config: CNSConfig, role: Role = "worker") -> Celery:
    """A configured Celery app named ``cns_tasks``, without tasks (:func:`cns.worker.app.create_worker_app`
    registers them; the API publishes through an app of role ``api``)."""
    app = Celery(APP_NAME)
    app.conf.update(celery_settings(config, role))
    return app
