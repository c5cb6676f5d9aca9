"""Publishing job ids to the broker under one deadline: the Celery side of :class:`cns.ports.Publisher`.

Celery's own publish retry has no overall deadline and, with a silent Redis, a publish can hang
(celery#4296, #4556, kombu#1463). :class:`CeleryPublisher` therefore disables it and retries
itself until ``service.publish_timeout_seconds`` is spent, each try bounded by the short socket
timeouts of the API's Celery app; when the deadline passes it raises :class:`BrokerUnavailable`
and the API answers 503 within ~3 s. The job row is already committed by then (outbox pattern),
so the reconciler can publish it later.
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING

from cns.errors import BrokerUnavailable, JobError
from cns.logging_setup import get_logger
from cns.worker.celery_app import CANARY, CANARY_KEY

if TYPE_CHECKING:
    from celery import Celery

log = get_logger(__name__)

RETRY_PAUSE_SECONDS = 0.2


class CeleryPublisher:
    """The production publisher over a Celery app configured with role ``api``."""

    def __init__(self, app: Celery, *, deadline_seconds: float, queue: str) -> None:
        self.app = app
        self.deadline_seconds = deadline_seconds
        self.queue = queue

    def publish(self, task_name: str, *args: str, task_id: str | None = None) -> None:
        deadline = time.monotonic() + self.deadline_seconds
        tries = 0
        while True:
            tries += 1
            try:
                # ignore_result: job state is in the database; without it send_task subscribes to the
                # result backend and a dead Redis stalls the publish in the backend's reconnect loop
                self.app.send_task(
                    task_name, args=list(args), task_id=task_id, retry=False, ignore_result=True
                )
                return
            except Exception as exc:  # kombu/redis raise many unrelated types for "broker down"
                if time.monotonic() + RETRY_PAUSE_SECONDS >= deadline:
                    log.warning(
                        "broker.publish_failed", task=task_name, tries=tries, error=type(exc).__name__
                    )
                    raise BrokerUnavailable(
                        f"the task broker did not accept {task_name} within {self.deadline_seconds:g} s "
                        f"({type(exc).__name__})",
                        task=task_name,
                    ) from exc
                time.sleep(RETRY_PAUSE_SECONDS)

    def queue_depth(self) -> int | None:
        try:
            with self.app.connection_for_write() as conn:
                client = conn.default_channel.client
                return int(client.llen(self.queue))
        except Exception:  # broker down or not Redis: depth unknown, never an API error
            return None

    def ping(self) -> None:
        try:
            with self.app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=self.deadline_seconds)
                client = getattr(conn.default_channel, "client", None)
                if client is not None:
                    client.ping()
        except Exception as exc:
            raise BrokerUnavailable(f"the task broker is not reachable ({type(exc).__name__})") from exc

    def canary(self, timeout: float) -> None:
        """Publish a canary and wait for the worker's answer in a broker key (no result backend).

        A result backend that lost Redis stays broken until the process restarts (celery's
        "Retry limit exceeded … must be restarted"), so the answer travels through the broker.
        """
        token = uuid.uuid4().hex
        key = CANARY_KEY.format(token=token)
        self.publish(CANARY, token)
        deadline = time.monotonic() + timeout
        with self.app.connection_for_write() as conn:
            client = conn.default_channel.client
            try:
                while time.monotonic() < deadline:
                    if client.get(key) is not None:
                        return
                    time.sleep(0.05)
            finally:
                client.delete(key)
        raise JobError(f"no worker answered the canary task within {timeout:g} s")
