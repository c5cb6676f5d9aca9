"""Unit tests of :class:`cns.worker.job_request.JobRequest` (the worker main process's failure hook).

A real Celery ``Request`` built from a task message (``celery.contrib.testing.mocks``) and a
real SQLite job table: the hook's decisions are checked against what Celery itself did with the
message (ack, or reject with requeue), which the ``on_ack``/``on_reject`` callbacks record.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any
from unittest.mock import Mock

import pytest
from billiard.einfo import ExceptionInfo
from billiard.exceptions import WorkerLostError
from celery import Celery
from celery.contrib.testing.mocks import TaskMessage
from celery.worker import state as worker_state

from cns.services.leases import holder_name
from cns.store.sql import JobState, LeaseTerms, SQLStore
from cns.worker import job_request
from cns.worker.celery_app import CANARY, PROCESS_INGESTION, SYNTHESIZE_PAIR
from cns.worker.job_request import JobRequest, hard_limit_reason, record_final_failure, worker_lost_reason

LOST = "Worker exited prematurely: signal 9 (SIGKILL) Job: 0."


@pytest.fixture
def store() -> Iterator[SQLStore]:
    """The job table the hook opens (``CNS_DATA_DIR`` is a temp dir: see tests/conftest.py)."""
    opened = job_request.open_store()
    try:
        yield opened
    finally:
        opened.close()


def started_job(store: SQLStore) -> str:
    job, _ = store.create_job("ingest", {"document_id": "d1"})
    assert store.start_job(job.job_id).attempts == 1
    return job.job_id


def make_app(**conf: Any) -> Celery:
    """A Celery app with the product's ack settings (overridable) and a job task using JobRequest."""
    app = Celery("job-request-test", set_as_current=False)
    app.conf.update(
        {
            "task_acks_late": True,
            "task_reject_on_worker_lost": True,
            "task_acks_on_failure_or_timeout": True,
            "task_ignore_result": True,
            **conf,
        }
    )

    for name in (PROCESS_INGESTION, CANARY):
        app.task(name=name, Request=JobRequest, shared=False)(never_run)
    return app


def never_run(job_id: str) -> None:
    """The task body: never called, only the task's Request is exercised."""
    raise AssertionError(job_id)


def make_request(app: Celery, job_id: str, name: str = PROCESS_INGESTION) -> tuple[JobRequest, Mock, Mock]:
    on_ack, on_reject = Mock(name="on_ack"), Mock(name="on_reject")
    message = TaskMessage(name, args=[job_id], ignore_result=True)
    request = JobRequest(message, app=app, task=app.tasks[name], on_ack=on_ack, on_reject=on_reject)
    return request, on_ack, on_reject


def einfo(exc: BaseException) -> ExceptionInfo:
    try:
        raise exc
    except BaseException:
        return ExceptionInfo()


def state_of(store: SQLStore, job_id: str) -> tuple[JobState, int, str | None]:
    job = store.get_job(job_id)
    assert job is not None
    return job.state, job.attempts, job.error


def test_hard_time_limit_acks_and_fails_the_job_once(store: SQLStore) -> None:
    job_id = started_job(store)
    request, on_ack, on_reject = make_request(make_app(), job_id)
    request.on_timeout(soft=False, timeout=4)
    assert on_ack.call_count == 1 and on_reject.call_count == 0  # acks_on_timeout: never redelivered
    state, attempts, error = state_of(store, job_id)
    assert (state, attempts) == (JobState.FAILURE, 1)  # the delivery was already counted
    assert error == hard_limit_reason(4)
    assert error.startswith("time_limit: the task exceeded its hard time limit of 4 s")


def test_soft_time_limit_leaves_the_job_to_the_task_body(store: SQLStore) -> None:
    job_id = started_job(store)
    request, on_ack, on_reject = make_request(make_app(), job_id)
    request.on_timeout(soft=True, timeout=2)
    assert on_ack.call_count == on_reject.call_count == 0
    assert state_of(store, job_id) == (JobState.STARTED, 1, None)


def test_hard_limit_requeued_without_acks_on_timeout_is_not_a_failure(store: SQLStore) -> None:
    job_id = started_job(store)
    request, on_ack, on_reject = make_request(make_app(task_acks_on_failure_or_timeout=False), job_id)
    request.on_timeout(soft=False, timeout=4)
    assert on_ack.call_count == 0 and on_reject.call_args.args[-1] is True  # back in the queue
    assert request.requeued and not request.delivery_is_final()
    assert state_of(store, job_id) == (JobState.STARTED, 1, None)  # the next delivery runs it


def test_hard_limit_during_cold_shutdown_is_left_to_the_reconciler(
    store: SQLStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(worker_state, "should_terminate", True)
    job_id = started_job(store)
    request, _, _ = make_request(make_app(), job_id)
    request.on_timeout(soft=False, timeout=4)
    assert state_of(store, job_id) == (JobState.STARTED, 1, None)


def test_worker_lost_with_reject_on_worker_lost_is_requeued_not_failed(store: SQLStore) -> None:
    job_id = started_job(store)
    request, on_ack, on_reject = make_request(make_app(), job_id)
    request.on_failure(einfo(WorkerLostError(LOST)), return_ok=True)
    assert on_ack.call_count == 0 and on_reject.call_args.args[-1] is True
    assert state_of(store, job_id) == (JobState.STARTED, 1, None)


def test_worker_lost_without_reject_on_worker_lost_fails_the_job(store: SQLStore) -> None:
    job_id = started_job(store)
    request, on_ack, on_reject = make_request(make_app(task_reject_on_worker_lost=False), job_id)
    request.on_failure(einfo(WorkerLostError(LOST)), return_ok=True)
    assert on_ack.call_count == 1 and on_reject.call_count == 0
    assert state_of(store, job_id) == (JobState.FAILURE, 1, f"WorkerLostError: {LOST}")


def test_an_ordinary_task_error_is_left_to_the_task_body(store: SQLStore) -> None:
    job_id = started_job(store)
    request, on_ack, _ = make_request(make_app(), job_id)
    request.on_failure(einfo(ValueError("boom")), return_ok=True)
    assert on_ack.call_count == 1  # acks_on_failure, as before
    assert state_of(store, job_id) == (JobState.STARTED, 1, None)


def test_a_finished_job_keeps_its_success(store: SQLStore) -> None:
    job_id = started_job(store)
    store.complete_job(job_id, {"sno_id": "s1"})
    request, _, _ = make_request(make_app(), job_id)
    request.on_timeout(soft=False, timeout=4)
    assert state_of(store, job_id) == (JobState.SUCCESS, 1, None)


def test_non_job_tasks_and_bad_arguments_are_ignored(store: SQLStore) -> None:
    job_id = started_job(store)
    request, on_ack, _ = make_request(make_app(), job_id, name=CANARY)
    request.on_timeout(soft=False, timeout=4)
    assert on_ack.call_count == 1 and state_of(store, job_id) == (JobState.STARTED, 1, None)
    assert not record_final_failure(PROCESS_INGESTION, [], "x")
    assert not record_final_failure(PROCESS_INGESTION, [12345], "x")
    assert not record_final_failure(PROCESS_INGESTION, ["no-such-job"], "x")
    assert record_final_failure(SYNTHESIZE_PAIR, [job_id], "time_limit: t")
    assert state_of(store, job_id) == (JobState.FAILURE, 1, "time_limit: t")


def test_a_store_that_cannot_be_opened_is_logged_never_raised(store: SQLStore) -> None:
    job_id = started_job(store)

    def broken() -> SQLStore:
        raise OSError("database unreachable")

    assert not record_final_failure(PROCESS_INGESTION, [job_id], "x", opener=broken)
    assert state_of(store, job_id) == (JobState.STARTED, 1, None)  # the reconciler's deadline applies


def test_worker_lost_reason_names_the_error() -> None:
    assert worker_lost_reason(WorkerLostError(LOST)) == f"WorkerLostError: {LOST}"
    reason = worker_lost_reason(SystemExit(-9))
    assert reason.startswith("WorkerLostError: worker process exited prematurely (SystemExit: -9)")
    assert len(worker_lost_reason(WorkerLostError("x" * 5000))) == job_request.MAX_REASON_CHARS


def test_the_product_job_tasks_use_the_hook() -> None:
    from cns.tasks import app

    assert app.tasks[PROCESS_INGESTION].Request is JobRequest
    assert app.tasks[SYNTHESIZE_PAIR].Request is JobRequest
    assert app.tasks[CANARY].Request != JobRequest  # no job row behind it


def leased_job(store: SQLStore, holder: str) -> str:
    """A job STARTED by the child ``holder`` under a live lease."""
    job, _ = store.create_job("ingest", {"document_id": "d1"})
    assert store.claim_job(job.job_id, max_deliveries=3, lease=LeaseTerms(holder, 30.0)).started
    return job.job_id


def test_a_dead_childs_lease_is_released_before_its_message_is_requeued(
    store: SQLStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = leased_job(store, holder_name(socket.gethostname(), 4242))
    request, _, on_reject = make_request(make_app(), job_id)
    request.worker_pid = 4242  # the child that ran the delivery (set when the pool accepted it)
    released: list[bool] = []
    real_release = job_request.release_lost_child

    def spy(*args: Any, **kwargs: Any) -> bool:
        assert on_reject.call_count == 0  # released *before* Celery requeues the message
        released.append(real_release(*args, **kwargs))
        return released[-1]

    monkeypatch.setattr(job_request, "release_lost_child", spy)
    request.on_failure(einfo(WorkerLostError(LOST)), return_ok=True)
    assert released == [True] and on_reject.call_args.args[-1] is True
    job = store.get_job(job_id)
    assert job is not None and job.state is JobState.STARTED and job.lease_owner is None
    # the requeued message is claimed at once by the next child, not refused as held
    assert store.claim_job(job_id, max_deliveries=3, lease=LeaseTerms("host:5555", 30.0)).started


def test_only_the_dead_childs_own_lease_is_released(store: SQLStore) -> None:
    job_id = leased_job(store, "other-host:77")
    assert not job_request.release_lost_child(PROCESS_INGESTION, [job_id], "this-host:4242")
    assert store.get_job(job_id).lease_owner == "other-host:77"  # type: ignore[union-attr]
    assert not job_request.release_lost_child(CANARY, [job_id], "other-host:77")  # not a job task


def test_a_failure_is_not_written_over_a_job_another_worker_holds(store: SQLStore) -> None:
    job_id = leased_job(store, "other-host:77")  # handed on after this child's lease ran out
    assert not record_final_failure(PROCESS_INGESTION, [job_id], "time_limit: t", holder="this-host:4242")
    assert state_of(store, job_id) == (JobState.STARTED, 1, None)
    assert record_final_failure(PROCESS_INGESTION, [job_id], "time_limit: t", holder="other-host:77")
    assert state_of(store, job_id) == (JobState.FAILURE, 1, "time_limit: t")
