"""The Celery app carries the reliability baseline of anchors B.5, derived from config."""

from __future__ import annotations

from cns.config import CNSConfig
from cns.worker.celery_app import celery_settings


def test_reliability_settings() -> None:
    config = CNSConfig(celery={"visibility_timeout_seconds": 100, "task_time_limit_seconds": 60,
                               "task_soft_time_limit_seconds": 50})  # fmt: skip
    s = celery_settings(config)
    assert s["task_acks_late"] and s["task_reject_on_worker_lost"]
    assert s["worker_prefetch_multiplier"] == 1 and s["task_ignore_result"]
    assert s["task_serializer"] == s["result_serializer"] == "json" and s["accept_content"] == ["json"]
    assert s["visibility_timeout"] == 100
    assert s["broker_transport_options"]["visibility_timeout"] == 100
    assert s["result_backend_transport_options"]["visibility_timeout"] == 100
    assert s["task_time_limit"] == 60 < 100 and s["task_soft_time_limit"] == 50
    assert s["worker_cancel_long_running_tasks_on_connection_loss"]
    assert s["broker_connection_retry_on_startup"]
    options = s["broker_transport_options"]
    assert (
        options["socket_timeout"] and options["socket_connect_timeout"] and options["health_check_interval"]
    )
    assert {e["task"] for e in s["beat_schedule"].values()} == {"cns.find_pairs", "cns.reconcile_jobs"}


def test_api_role_has_publish_bounded_socket_timeouts() -> None:
    config = CNSConfig(service={"publish_timeout_seconds": 1.5})
    options = celery_settings(config, "api")["broker_transport_options"]
    assert options["socket_timeout"] == 1.5 and options["socket_connect_timeout"] <= 1.5


def test_no_result_backend_unless_configured() -> None:
    assert celery_settings(CNSConfig())["result_backend"] is None
    assert celery_settings(CNSConfig(result_backend="redis://other/1"))["result_backend"] == "redis://other/1"


def test_tasks_module_registers_every_task() -> None:
    from cns.tasks import app

    names = {n for n in app.tasks if n.startswith("cns.")}
    assert names == {"cns.process_ingestion", "cns.evaluate_sno", "cns.find_pairs", "cns.synthesize_pair",
                     "cns.rescore_population", "cns.search_pairs", "cns.reconcile_jobs", "cns.canary"}  # fmt: skip
    assert app.main == "cns_tasks"
