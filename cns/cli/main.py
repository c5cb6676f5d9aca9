"""Entry point of the ``cns`` command."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from cns.cli.config_cmd import config_app
from cns.cli.eval_cmd import eval_app
from cns.cli.llm_cmd import llm_app
from cns.cli.pairs_cmd import register as register_pair_commands
from cns.cli.run_cmd import register as register_run_command
from cns.cli.search_cmd import register as register_search_command
from cns.cli.service_cmd import register as register_service_commands
from cns.cli.sno_cmd import sno_app
from cns.cli.store_cmd import register as register_store_commands
from cns.cli.ui_cmd import register as register_ui_command
from cns.config import CNSConfig
from cns.config.notices import held_config_notices
from cns.errors import CNSError
from cns.logging_setup import configure_logging
from cns.version import __version__

app = typer.Typer(
    name="cns",
    help="CNS 2.0 — Chiral Narrative Synthesis: structure narratives, score them, find chiral pairs, synthesize.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(config_app, name="config")
app.add_typer(sno_app, name="sno")
app.add_typer(eval_app, name="eval")
app.add_typer(llm_app, name="llm")
register_store_commands(app)
register_run_command(app)
register_pair_commands(app)
register_search_command(app)
register_service_commands(app)
register_ui_command(app)
console = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cns {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[  # noqa: ARG001 - --version is handled by its eager callback
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    config_file: Annotated[
        Path | None, typer.Option("--config", "-c", help="YAML config file (same as CNS_CONFIG_FILE).")
    ] = None,
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING or ERROR.")] = "WARNING",
    log_format: Annotated[
        str | None,
        typer.Option(help="console or json (default: log_format from the config; `auto` = console here)."),
    ] = None,
) -> None:
    """Global options."""
    if config_file is not None:
        if not config_file.is_file():
            raise typer.BadParameter(f"config file {config_file} does not exist", param_hint="--config")
        os.environ["CNS_CONFIG_FILE"] = str(config_file)
    # the config is read for the logging options before logging is set up: its warnings (an
    # unknown CNS_ variable, …) wait for it, and so go to stderr in the chosen format
    with held_config_notices():
        configure_logging(
            level=log_level, fmt=_cli_log_format(log_format), text_preview_chars=_cli_preview_chars()
        )


def _cli_preview_chars() -> int | None:
    """``log_text_preview_chars`` of the config (None when the config is invalid: the command
    itself reports that)."""
    try:
        return CNSConfig().log_text_preview_chars
    except CNSError:
        return None


def _cli_log_format(option: str | None) -> str:
    """Human-readable log lines for a person at the CLI, JSON only when asked for.

    ``--log-format`` wins, then ``CNS_LOG_FORMAT`` (read by :func:`configure_logging`), then the
    config's ``log_format``; its default ``auto`` means JSON when stderr is not a terminal, which is
    right for services but filled a user's terminal-like output (IDE consoles, ``| tee``) with JSON.
    """
    if option is not None:
        if option.lower() not in ("console", "json"):
            raise typer.BadParameter("expected console or json", param_hint="--log-format")
        return option.lower()
    try:
        configured = CNSConfig().log_format
    except CNSError:
        configured = "auto"  # the command itself reports the invalid configuration
    return "console" if configured == "auto" else configured


def run() -> None:
    """Console-script wrapper: CNS errors (an invalid configuration among them) become one clear
    line, not wrapped and without a traceback, and exit code 1."""
    try:
        app()
    except CNSError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        raise SystemExit(1) from None
