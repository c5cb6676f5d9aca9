"""Publishing job ids to the broker under one deadline: the Celery side of :class:`cns.ports.Publisher`.

Celery's own publish retry has no overall deadline and, with a silent Redis, a publish can hang
(celery#4296, #4556, kombu#1463). :class:`CeleryPublisher` therefore disables it and retries
itself until ``service.publish_timeout_seconds`` is spent, each try bounded by the short socket
timeouts of the API's Celery app; when the deadline passes it raises :class:`BrokerUnavailable`
and the API answers 503 within ~3 s. The job row is already committed by then (outbox pattern),
so the reconciler can publish it later.

Concurrent publishes are combined: the request threads of an API process that publish at the
same moment hand their messages to one of them, which sends them through one Redis pipeline
(kombu's ``Producer.batch``) — one round trip and one Redis client instead of one each, which
is most of what a publish costs. A thread that publishes alone sends at once (no waiting for
company), so a batch never adds latency; and every caller still returns only once its own
message is in Redis. A batch that fails falls back to each caller publishing alone under its
own deadline, exactly as without batching.
"""

from __future__ import annotations

import threading
import time
import uuid
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cns.errors import BrokerUnavailable, JobError
from cns.logging_setup import get_logger
from cns.worker.celery_app import CANARY, CANARY_KEY

if TYPE_CHECKING:
    from celery import Celery

log = get_logger(__name__)

RETRY_PAUSE_SECONDS = 0.2


@dataclass(eq=False)  # identity: two messages with the same fields are still two
class _Message:
    task_name: str
    args: list[str]
    task_id: str | None
    finished: bool = False
    sent: bool = False


class CeleryPublisher:
    """The production publisher over a Celery app configured with role ``api``."""

    def __init__(self, app: Celery, *, deadline_seconds: float, queue: str) -> None:
        self.app = app
        self.deadline_seconds = deadline_seconds
        self.queue = queue
        self._turn = threading.Condition()
        self._pending: list[_Message] = []
        self._sending = False
        #: messages sent in combined batches, and those batches (for tests and profiling)
        self.batched_messages = 0
        self.batches = 0

    def publish(self, task_name: str, *args: str, task_id: str | None = None) -> None:
        deadline = time.monotonic() + self.deadline_seconds
        message = _Message(task_name, list(args), task_id)
        if not self._publish_combined(message, deadline):
            self._publish_alone(message, deadline)

    def _publish_combined(self, message: _Message, deadline: float) -> bool:
        """Send ``message`` in a batch with whatever else is waiting; True once it is in Redis.

        The first thread to find no batch in flight becomes the sender: it takes every pending
        message (its own included) and sends them together. The others wait for that batch to
        end; a message that arrived too late for it is sent by the next sender, chosen the same
        way — each sender sends one batch, so no thread sends for others indefinitely.
        """
        with self._turn:
            self._pending.append(message)
            while self._sending and not message.finished:
                remaining = deadline - time.monotonic()
                if remaining <= 0 and message in self._pending:  # still not taken by a batch
                    self._pending.remove(message)
                    return False
                # a message already in a batch in flight waits for its outcome (bounded by the
                # socket timeouts), so that it is never sent twice
                self._turn.wait(timeout=max(remaining, 0.05))
            if message.finished:
                return message.sent
            self._sending = True
            batch, self._pending = self._pending, []
        sent = False
        try:
            sent = self._send_batch(batch)
        finally:
            with self._turn:
                for queued in batch:
                    queued.finished, queued.sent = True, sent
                self._sending = False
                self._turn.notify_all()
        return message.sent

    def _send_batch(self, batch: list[_Message]) -> bool:
        try:
            with self.app.producer_or_acquire() as producer, _batched(producer, len(batch)):
                for m in batch:
                    self._send(m, producer)
        except Exception as exc:  # each caller retries alone under its own deadline
            log.debug("broker.batch_failed", messages=len(batch), error=type(exc).__name__)
            return False
        if len(batch) > 1:
            self.batches += 1
            self.batched_messages += len(batch)
        return True

    def _send(self, message: _Message, producer: Any = None) -> None:
        # ignore_result: job state is in the database; without it send_task subscribes to the
        # result backend and a dead Redis stalls the publish in the backend's reconnect loop
        self.app.send_task(
            message.task_name, args=message.args, task_id=message.task_id, retry=False,
            ignore_result=True, producer=producer,
        )  # fmt: skip

    def _publish_alone(self, message: _Message, deadline: float) -> None:
        """Try until ``deadline`` (at least once), pausing between tries; else BrokerUnavailable."""
        tries = 0
        while True:
            tries += 1
            try:
                self._send(message)
                return
            except Exception as exc:  # kombu/redis raise many unrelated types for "broker down"
                if time.monotonic() + RETRY_PAUSE_SECONDS >= deadline:
                    log.warning(
                        "broker.publish_failed", task=message.task_name, tries=tries, error=type(exc).__name__
                    )
                    raise BrokerUnavailable(
                        f"the task broker did not accept {message.task_name} within "
                        f"{self.deadline_seconds:g} s ({type(exc).__name__})",
                        task=message.task_name,
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


def _batched(producer: Any, size: int) -> AbstractContextManager[Any]:
    """kombu's publish batch (one Redis pipeline) where kombu has it, else publish one by one."""
    batch = getattr(producer, "batch", None)
    return batch(max_size=max(1, size)) if batch is not None and size > 1 else nullcontext()
