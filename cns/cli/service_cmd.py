"""``cns serve``, ``cns worker``, ``cns probe``, ``cns beat``, ``cns apikey …`` and ``cns submit``.

Thin: parse options, call the service or start the server process, print. The server commands
configure JSON logging from the config (``log_format``) so uvicorn's and Celery's own lines go
through the same structured pipeline as CNS's.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cns.config.settings import CNSConfig, get_config
from cns.logging_setup import configure_logging

service_app = typer.Typer(help="Run and use the CNS service (API, workers, beat).", no_args_is_help=True)
apikey_app = typer.Typer(help="Manage API keys (stored hashed; a key is shown once).", no_args_is_help=True)
console = Console()


def _logging() -> None:
    config = get_config()
    configure_logging(
        level=config.log_level, fmt=config.log_format, text_preview_chars=config.log_text_preview_chars
    )
    logging.captureWarnings(True)  # warnings become JSON log lines too, not raw stderr text


#: Most worker processes ``service.workers: 0`` picks: each holds its own database connections.
MAX_AUTO_WORKERS = 8


def serve_workers(config: CNSConfig, requested: int | None = None) -> int:
    """``--workers``, else ``service.workers``, else one process per usable CPU (at most 8).

    One Python process serves requests on one core at a time (the interpreter lock), so a
    single process left the other cores idle while requests queued; the processes share
    nothing in memory (jobs, idempotency keys and rate-limit buckets live in PostgreSQL and Redis).
    """
    if requested:
        return requested
    if config.service.workers:
        return config.service.workers
    return max(1, min(MAX_AUTO_WORKERS, len(os.sched_getaffinity(0))))


@service_app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default: service.host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: service.port).")] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="uvicorn worker processes (default: service.workers; 0 there = one per CPU, at most 8).",
        ),
    ] = None,
) -> None:
    """Run the HTTP API (uvicorn cns.main:app) in several worker processes."""
    import uvicorn

    config = get_config()
    _logging()
    processes = serve_workers(config, workers)
    if processes > 1:
        _refuse_what_workers_would(config)
    uvicorn.run(
        "cns.main:app",
        host=host or config.service.host,
        port=port or config.service.port,
        workers=processes,
        log_config=None,  # keep the JSON handlers installed by configure_logging
        access_log=False,  # the API logs one structured http.request line itself
        **uvicorn_options(config),
    )


#: uvicorn's exit status when the application does not start.
STARTUP_FAILURE = 3


def _refuse_what_workers_would(config: CNSConfig) -> None:
    """Run the worker processes' start-up checks once in the parent, and exit 3 if one fails.

    With several workers, uvicorn's supervisor stops when a worker fails to start but exits 0,
    so an API refusing an unsafe broker Redis (or finding no database) would look like a clean
    stop to an orchestrator. The same checks here fail ``cns serve`` itself; they also migrate
    the database once, before the workers open it.
    """
    from cns.errors import ConfigError, StoreError
    from cns.services.runtime import STORE_WAIT_SECONDS, open_store
    from cns.worker.redis_guard import check_broker_at_startup

    try:
        check_broker_at_startup(config, "api")
        open_store(config, STORE_WAIT_SECONDS).close()
    except (ConfigError, StoreError) as exc:
        logging.getLogger("cns.serve").error("api.refused: %s", exc.message)
        raise typer.Exit(STARTUP_FAILURE) from None


def uvicorn_options(config: CNSConfig) -> dict[str, Any]:
    """The uvicorn settings that protect the API process.

    Forwarded headers are believed only from ``service.trusted_proxies``: uvicorn's own default
    trusts 127.0.0.1, so any local client could pick its rate-limit bucket with a made-up
    ``X-Forwarded-For``.
    """
    trusted = config.service.trusted_proxies
    return {
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": ",".join(trusted) if trusted else "",
        "limit_concurrency": config.service.max_connections,  # beyond it uvicorn answers 503
        "timeout_keep_alive": 5,  # idle keep-alive connections are closed after 5 s
    }


def _celery(argv: list[str]) -> None:
    from cns.tasks import app

    app.start(argv)


@service_app.command("worker")
def worker(
    concurrency: Annotated[
        int | None, typer.Option(min=1, help="Processes (default: celery.worker_concurrency).")
    ] = None,
    pool: Annotated[str, typer.Option(help="prefork (default) or solo.")] = "prefork",
) -> None:
    """Run a Celery worker consuming the cns queue."""
    config = get_config()
    _logging()
    n = concurrency or config.celery.worker_concurrency
    _celery(
        ["--quiet", "worker", "--pool", pool, "--concurrency", str(n), "--loglevel", config.log_level,
         "--queues", "cns", "--without-gossip", "--without-mingle"]
    )  # fmt: skip


@service_app.command("probe")
def probe(
    deadline: Annotated[
        float, typer.Option(min=1.0, help="Seconds for the ping and the canary together.")
    ] = 10.0,
    worker: Annotated[
        str | None, typer.Option(help="Ping only this worker (celery@hostname); default: any worker.")
    ] = None,
) -> None:
    """Worker liveness: control ping + canary task round-trip, and free space in this host's data dir;
    exit 0 healthy, 1 unhealthy."""
    from cns.worker.probe import probe_workers

    _logging()
    result = probe_workers(get_config(), deadline=deadline, worker=worker)
    typer.echo(json.dumps(result.to_dict(), sort_keys=True))
    raise typer.Exit(0 if result.healthy else 1)


@service_app.command("beat")
def beat() -> None:
    """Run celery beat (periodic find_pairs and reconcile_jobs); run exactly one per deployment."""
    config = get_config()
    _logging()
    schedule = Path(config.data_dir) / "celerybeat-schedule"
    schedule.parent.mkdir(parents=True, exist_ok=True)
    _celery(["--quiet", "beat", "--loglevel", config.log_level, "--schedule", str(schedule)])


@apikey_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Argument(help="Who or what uses the key.")],
    scope: Annotated[
        str,
        typer.Option(
            help="read (GET routes), write (also submit; delete own documents) or admin (delete any)."
        ),
    ] = "write",
) -> None:
    """Create a key and print it once (only its hash is stored)."""
    from cns.errors import ValidationError
    from cns.services.apikeys import create_api_key
    from cns.store.sql import SQLStore

    with SQLStore.open(config=get_config()) as store:
        try:
            info, key = create_api_key(store, name=name, scope=scope)
        except ValidationError as exc:
            console.print(f"[red]{escape(exc.message)}[/red]")
            raise typer.Exit(2) from None
    console.print(
        f"created {info.scope} key {info.key_id} for {escape(repr(info.name))}; store it now, it is not shown again:"
    )
    typer.echo(key)


@apikey_app.command("list")
def apikey_list() -> None:
    """List keys (ids and names, never secrets)."""
    from cns.services.apikeys import list_api_keys
    from cns.store.sql import SQLStore

    with SQLStore.open(config=get_config()) as store:
        keys = list_api_keys(store)
    table = Table("key id", "name", "scope", "created", "revoked")
    for k in keys:
        table.add_row(k.key_id, escape(k.name), k.scope, k.created_at.isoformat(timespec="seconds"),
                      k.revoked_at.isoformat(timespec="seconds") if k.revoked_at else "")  # fmt: skip
    console.print(table)


@apikey_app.command("revoke")
def apikey_revoke(
    key_id: Annotated[str, typer.Argument(help="The key id shown by `cns apikey list`.")],
) -> None:
    """Revoke a key (effective on the next request)."""
    from cns.services.apikeys import revoke_api_key
    from cns.store.sql import SQLStore

    with SQLStore.open(config=get_config()) as store:
        info = revoke_api_key(store, key_id)
    if info is None:
        console.print(f"[red]no API key with id {escape(repr(key_id))}[/red]")
        raise typer.Exit(1)
    console.print(f"revoked {info.key_id} ({escape(info.name)})")


@service_app.command("submit")
def submit(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders of documents.", exists=True)],
    api: Annotated[str, typer.Option("--api", help="Base URL of the service, e.g. http://127.0.0.1:8000")],
    follow: Annotated[
        bool, typer.Option("--follow/--no-follow", help="Wait for every job to finish.")
    ] = True,
    api_key: Annotated[
        str | None, typer.Option(envvar="CNS_API_KEY", help="X-API-Key for write routes.")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to follow before giving up.")] = 3600.0,
) -> None:
    """Send documents to a running service and follow their jobs."""
    from cns.cli.api_client import run_via_api
    from cns.cli.output import out
    from cns.cli.progress import ProgressDisplay

    with ProgressDisplay() as progress:
        report = run_via_api(
            paths,
            api,
            follow=follow,
            api_key=api_key,
            timeout=timeout,
            progress=progress,
            notify=out().warning,
        )
    summary = report.summary()
    console.print(" ".join(f"{k}={v}" for k, v in summary.items()))
    for source, reason in report.skipped:
        console.print(f"[yellow]skipped[/yellow] {escape(source)}: {escape(reason)}")
    for problem in report.problems:
        console.print(f"[red]error:[/red] {escape(problem)}")
    for source, reason in report.failed_documents() if follow else report.not_submitted:
        console.print(f"[red]failed[/red] {escape(source)}: {escape(reason)}")
    if summary["failed"] or summary["not_submitted"] or (follow and summary["pending"]):
        raise typer.Exit(1)


service_app.add_typer(apikey_app, name="apikey")


def register(app: typer.Typer) -> None:
    """Add ``serve``, ``worker``, ``beat``, ``submit`` and the ``apikey`` group to the ``cns`` app."""
    app.registered_commands.extend(service_app.registered_commands)
    app.add_typer(apikey_app, name="apikey")


if __name__ == "__main__":  # `python -m cns.cli.service_cmd serve` before the commands are registered
    service_app()
