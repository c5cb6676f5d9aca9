"""One ``configure_logging()`` for the CLI, the API and the workers.

* JSON lines when asked for (``fmt="json"``); with ``fmt="auto"`` when ``CNS_LOG_FORMAT=json``
  or stderr is not a TTY (``console`` forces the human renderer); ISO timestamps; the level; context variables merged in, so a bound
  ``request_id`` / ``job_id`` / ``task_id`` appears on every line of that unit of work.
* Standard-library records (uvicorn, celery, sqlalchemy) go through the same processors.
* Tracebacks are rendered without local variables: locals may hold document text or secrets.
* Calling it again replaces the handler instead of stacking a second one.

* Document text stays out of the logs at INFO and above. At DEBUG, ``sno_ingestion.text`` shows
  the start of each document, at most ``log_text_preview_chars`` characters (0 = never).

Event names are stable (``sno_ingestion.started``, ``sno_evaluation.complete`` with ``sno_id``,
``trust_score``, ``source``; ``ingestion.failed``; ``worker.cns_manager_initialized`` …): log
searches and dashboards rely on them.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

import structlog
from structlog.typing import Processor

_HANDLER_NAME = "cns-structlog"
#: Characters of document text a log line may show (``log_text_preview_chars``); 0 = none.
DEFAULT_TEXT_PREVIEW_CHARS = 80
_text_preview_chars = DEFAULT_TEXT_PREVIEW_CHARS


def _wants_json(fmt: str, stream: TextIO) -> bool:
    """``json`` or ``console`` as asked; ``auto`` defers to ``CNS_LOG_FORMAT``, then to the stream
    (JSON unless it is a terminal). An explicit choice wins over the environment, so
    ``cns --log-format console`` is human-readable even where ``CNS_LOG_FORMAT=json`` is set."""
    fmt = fmt.lower()
    if fmt == "auto":
        fmt = os.environ.get("CNS_LOG_FORMAT", fmt).lower()
    if fmt == "json":
        return True
    if fmt == "console":
        return False
    return not (hasattr(stream, "isatty") and stream.isatty())


def configure_logging(
    level: str = "INFO",
    fmt: str = "auto",
    stream: TextIO | None = None,
    *,
    text_preview_chars: int | None = None,
) -> None:
    """Configure structlog and the root stdlib logger (idempotent).

    ``text_preview_chars`` is ``log_text_preview_chars``: how much document text :func:`preview`
    shows (None keeps the current value).
    """
    global _text_preview_chars
    if text_preview_chars is not None:
        _text_preview_chars = max(0, int(text_preview_chars))
    stream = stream or sys.stderr
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    if _wants_json(fmt, stream):
        renderer: Processor = structlog.processors.JSONRenderer()
        # show_locals=False: locals may hold document text, keys or passwords
        shared.append(
            structlog.processors.ExceptionRenderer(
                structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
            )
        )
    else:
        renderer = structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(stream)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == _HANDLER_NAME:
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "urllib3", "filelock", "sentence_transformers", "transformers"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def get_logger(name: str | None = None) -> Any:
    """A structlog logger; use key-value events: ``log.info("sno_evaluation.complete", sno_id=...)``."""
    return structlog.stdlib.get_logger(name)


@contextmanager
def bound_context(**values: Any) -> Iterator[None]:
    """Bind ``request_id`` / ``job_id`` / ``task_id`` (…) for the duration of a unit of work."""
    tokens = structlog.contextvars.bind_contextvars(**values)
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**tokens)


def text_preview_chars() -> int:
    """The configured ``log_text_preview_chars`` (0 = no document text in logs)."""
    return _text_preview_chars


def preview(text: str, limit: int | None = None) -> str:
    """A short preview of document text for logs (the full text never goes to logs).

    At most ``limit`` characters, by default the configured ``log_text_preview_chars``; "" at 0.
    """
    limit = _text_preview_chars if limit is None else limit
    if limit <= 0:
        return ""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"
