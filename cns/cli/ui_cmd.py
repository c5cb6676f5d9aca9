"""``cns ui``: the web interface on one machine, over the local store, opened in the browser."""

from __future__ import annotations

import threading
import webbrowser
from pathlib import Path
from typing import Annotated

import typer

from cns.cli.common import DataDirOption, load_config

BROWSER_DELAY_SECONDS = 1.5


def ui(
    data_dir: DataDirOption = None,
    host: Annotated[str, typer.Option(help="Bind address (keep 127.0.0.1 unless auth is on).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8765,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Do not open a browser window.")] = False,
) -> None:
    """Browse narratives, pairs and syntheses, upload documents — in the browser, on this machine.

    The same pages as `cns serve` at /, over the SQLite store under --data-dir; uploads and
    syntheses run in this process (no broker, no worker). Stop with Ctrl+C.
    """
    import uvicorn

    from cns.cli.service_cmd import uvicorn_options
    from cns.web.local import local_app

    config = load_config(data_dir)
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"
    with local_app(config) as local:
        typer.echo(
            f"cns ui: {url} (data in {Path(config.data_dir)}; {local.resumed} unfinished jobs resumed)"
        )
        if not no_browser:
            threading.Timer(BROWSER_DELAY_SECONDS, webbrowser.open, args=(url,)).start()
        options = {k: v for k, v in uvicorn_options(config).items() if k != "limit_concurrency"}
        uvicorn.run(local.app, host=host, port=port, log_config=None, access_log=False, **options)


def register(app: typer.Typer) -> None:
    app.command("ui")(ui)
