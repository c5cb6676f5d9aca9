"""The single-machine interface (``cns ui``): the web app over the local store, jobs run in-process.

The app is the one ``cns serve`` runs, built on the single-machine runtime that ``cns run`` and
``cns ingest`` open (SQLite under ``--data-dir``, the persisted reference index, the configured
models). Instead of a Celery broker, a :class:`~cns.services.local_jobs.LocalJobRunner` runs the
jobs the pages submit — uploads, "synthesize now", "find pairs now" — with the same job table and
handlers as the service's workers, so an upload here leaves the same job row and the same SNO.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from fastapi import FastAPI

from cns.config.settings import CNSConfig
from cns.services.local_jobs import LocalJobRunner
from cns.services.runtime import Runtime, build_runtime
from cns.web.app import create_web_app
from cns.web.state import WebState


@dataclass
class LocalApp:
    app: FastAPI
    runtime: Runtime
    runner: LocalJobRunner
    resumed: int


@contextmanager
def local_app(config: CNSConfig, runtime: Runtime | None = None) -> Iterator[LocalApp]:
    """The app and its job runner over ``config.data_dir``; jobs left unfinished by an earlier
    run are queued again. Stops the runner and closes the runtime (saving the index) on exit."""
    rt = runtime if runtime is not None else build_runtime(config, "cli")
    runner = LocalJobRunner(config, rt.store, rt.manager)
    state = WebState(manager=rt.manager, model_lock=runner.lock, local_jobs=True)
    # one runtime for the jobs, the pages and the search: one copy of the models, used in turn
    app = create_web_app(config, store=rt.store, publisher=runner, state=state, runtime=rt)
    runner.start()
    try:
        yield LocalApp(app, rt, runner, runner.resume())
    finally:
        runner.stop()
        if runtime is None:
            rt.close()
