"""ASGI entry point of the API and the web pages: ``uvicorn cns.main:app``.

The app is built on first attribute access, not at import, so importing :mod:`cns.main` (for
example by a test or a tool that lists modules) opens no database and reads no environment.
"""

from __future__ import annotations

import gc
from typing import Any

from fastapi import FastAPI

_app: FastAPI | None = None


def get_app() -> FastAPI:
    """Build (once) the app from the process configuration, with JSON logging configured."""
    global _app
    if _app is None:
        from cns.config.settings import get_config
        from cns.logging_setup import configure_logging
        from cns.web import create_web_app

        config = get_config()
        configure_logging(
            level=config.log_level, fmt=config.log_format, text_preview_chars=config.log_text_preview_chars
        )
        _app = create_web_app(config)
        freeze_startup_objects()
    return _app


def freeze_startup_objects() -> None:
    """Keep what the process built at start-up out of every later garbage collection.

    The API process holds ~200k objects from its imports (FastAPI, pydantic, SQLAlchemy, Celery
    and the cns modules); every full collection walked them all — 130 ms with the interpreter
    lock held, a stall of every request in flight, every few thousand requests under load (the
    p99 of ``benchmarks/api_latency.py``). ``gc.freeze`` moves them to a generation that is never
    collected; they live as long as the process anyway.
    """
    gc.collect()
    gc.freeze()


def __getattr__(name: str) -> Any:
    if name == "app":
        return get_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
