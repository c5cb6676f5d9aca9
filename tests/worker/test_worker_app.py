"""The job table drives the worker: one task per job kind, built by ``create_worker_app``, and the
runtime receives the app instead of importing it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from cns.config.settings import CNSConfig
from cns.errors import ConfigError
from cns.services.job_kinds import INGEST, PAIR_SEARCH, RESCORE, RESCORE_POPULATION, SEARCH_PAIRS, SYNTHESIZE
from cns.services.job_table import JOB_TABLE, JOB_TASK_NAMES, task_for_kind
from cns.store.sql import JobState
from cns.worker import job_request, runtime
from cns.worker.app import create_worker_app
from cns.worker.job_request import JobRequest, record_final_failure


@pytest.fixture
def unbound_runtime() -> Iterator[None]:
    saved = runtime._app
    runtime.reset_runtime()
    runtime._app = None
    try:
        yield
    finally:
        runtime.reset_runtime()
        runtime._app = saved


def test_every_job_kind_has_one_task() -> None:
    assert set(JOB_TABLE) == {INGEST, SYNTHESIZE, RESCORE, PAIR_SEARCH}
    assert {row.task_name for row in JOB_TABLE.values()} == JOB_TASK_NAMES
    assert len(JOB_TASK_NAMES) == len(JOB_TABLE)
    assert task_for_kind(RESCORE) == RESCORE_POPULATION
    assert task_for_kind(PAIR_SEARCH) == SEARCH_PAIRS
    assert task_for_kind("no-such-kind") is None  # the reconciler skips a kind it does not run


def test_the_worker_app_registers_the_job_table_with_the_failure_hook(unbound_runtime: None) -> None:
    app = create_worker_app(CNSConfig())
    try:
        for row in JOB_TABLE.values():
            task = app.tasks[row.task_name]
            assert task.Request is JobRequest
            assert task.__doc__ == row.summary
        assert runtime._app is app  # the runtime publishes follow-up jobs through this app
    finally:
        app.close()


def test_a_hard_killed_rescore_job_is_failed_like_the_others() -> None:
    store = job_request.open_store()
    try:
        job, _ = store.create_job(RESCORE, {"mark": 3})
        store.start_job(job.job_id)
        assert record_final_failure(RESCORE_POPULATION, [job.job_id], "time_limit: t")
        done = store.get_job(job.job_id)
        assert done is not None and (done.state, done.error) == (JobState.FAILURE, "time_limit: t")
    finally:
        store.close()


def test_the_runtime_without_an_app_names_the_fix(unbound_runtime: None) -> None:
    with pytest.raises(ConfigError, match="create_worker_app"):
        runtime.get_runtime()


def test_importing_the_runtime_builds_no_app_and_leaves_logging_alone() -> None:
    code = (
        "import logging, sys\n"
        "before = list(logging.getLogger().handlers)\n"
        "import cns.worker.runtime as r\n"
        "assert r._app is None, 'an app was built at import'\n"
        "assert 'cns.tasks' not in sys.modules, 'cns.tasks was imported'\n"
        "assert 'cns.worker.signals' not in sys.modules, 'signal handlers were imported'\n"
        "assert logging.getLogger().handlers == before, 'logging was reconfigured'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_the_task_module_exposes_the_app_under_both_names() -> None:
    import cns.tasks

    assert cns.tasks.app is cns.tasks.celery_app
    assert cns.tasks.process_ingestion.name == "cns.process_ingestion"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = cns.tasks.nope
