from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from cns.config import CNSConfig
from cns.logging_setup import (
    DEFAULT_TEXT_PREVIEW_CHARS,
    bound_context,
    configure_logging,
    get_logger,
    preview,
    text_preview_chars,
)
from cns.workflow import CNSWorkflowManager


@pytest.fixture(autouse=True)
def default_preview_chars() -> Iterator[None]:
    yield
    configure_logging(text_preview_chars=DEFAULT_TEXT_PREVIEW_CHARS)


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


def test_document_text_reaches_the_logs_only_at_debug_and_only_as_much_as_configured(
    fake_config: CNSConfig,
) -> None:
    """``log_text_preview_chars``: the start of a document at DEBUG, at most that many characters."""
    text = "Mesosaurus fossils on two continents show the continents were joined. " * 3

    def ingest(level: str, chars: int) -> list[dict[str, Any]]:
        stream = io.StringIO()
        configure_logging(level=level, fmt="json", stream=stream, text_preview_chars=chars)
        CNSWorkflowManager(fake_config).ingest_and_evaluate(text, f"doc-{level}-{chars}.txt")
        return [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]

    [shown] = [e for e in ingest("DEBUG", 24) if e["event"] == "sno_ingestion.text"]
    assert shown["preview"] == "Mesosaurus fossils on t…" and len(shown["preview"]) == 24
    assert not [e for e in ingest("DEBUG", 0) if "Mesosaurus" in json.dumps(e)]
    assert not [e for e in ingest("INFO", 24) if "Mesosaurus" in json.dumps(e)]


def test_the_cli_configures_logging_with_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from cns.cli.main import _cli_preview_chars

    monkeypatch.setenv("CNS_LOG_TEXT_PREVIEW_CHARS", "7")
    assert _cli_preview_chars() == 7
    configure_logging(text_preview_chars=CNSConfig().log_text_preview_chars)
    assert text_preview_chars() == 7 and preview("abcdefghij") == "abcdef…"
