from __future__ import annotations

import io
import json
import logging

from cns.logging_setup import bound_context, configure_logging, get_logger, preview


def test_json_lines_with_context_and_seed_event_names() -> None:
    stream = io.StringIO()
    configure_logging(fmt="json", stream=stream)
    configure_logging(fmt="json", stream=stream)  # idempotent: one handler, not two
    log = get_logger("cns.test")
    with bound_context(job_id="job-1", task_id="task-9"):
        log.info("sno_evaluation.complete", sno_id="s1", trust_score=0.7, source="paper.txt")
    log.info("ingestion.failed", error="boom")
    logging.getLogger("uvicorn").warning("stdlib record")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 3
    first = lines[0]
    assert first["event"] == "sno_evaluation.complete" and first["level"] == "info"
    assert first["job_id"] == "job-1" and first["task_id"] == "task-9" and first["trust_score"] == 0.7
    assert "timestamp" in first and first["timestamp"].endswith("Z")
    assert "job_id" not in lines[1]
    assert lines[2]["event"] == "stdlib record" and lines[2]["level"] == "warning"


def test_exceptions_are_rendered_without_locals() -> None:
    stream = io.StringIO()
    configure_logging(fmt="json", stream=stream)
    secret = "document text that must not leak"  # noqa: F841 - a local that must not be rendered
    try:
        raise ValueError("bad")
    except ValueError:
        get_logger("cns.test").exception("ingestion.failed")
    record = json.loads(stream.getvalue().splitlines()[-1])
    assert "ValueError" in json.dumps(record["exception"])
    assert "must not leak" not in stream.getvalue()


def test_preview_truncates() -> None:
    assert preview("a " * 100, 10) == "a a a a a…"
    assert preview("short") == "short"
