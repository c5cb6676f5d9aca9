"""Entry point of the ``cns`` command."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated, TextIO, cast

import typer
from rich.markup import escape

from cns.cli.config_cmd import config_app
from cns.cli.eval_cmd import eval_app
from cns.cli.llm_cmd import llm_app
from cns.cli.output import ConsoleLogStream, Verbosity, configure_output, out
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
    log_level: Annotated[
        str | None, typer.Option(help="DEBUG, INFO, WARNING or ERROR (default WARNING).")
    ] = None,
    log_format: Annotated[
        str | None,
        typer.Option(
            help="console or json (default: log_format from the config; `auto` = console here). "
            "With json every stderr line is a JSON object and no progress bar is drawn."
        ),
    ] = None,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet", "-q", help="Print only errors and the final summary: no progress, no per-file lines."
        ),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also print debug log lines (same as --log-level DEBUG).")
    ] = False,
) -> None:
    """Global options."""
    if config_file is not None:
        if not config_file.is_file():
            raise typer.BadParameter(f"config file {config_file} does not exist", param_hint="--config")
        os.environ["CNS_CONFIG_FILE"] = str(config_file)
    verbosity = _verbosity(quiet, verbose, log_level)
    fmt = _cli_log_format(log_format)
    output = configure_output(json_lines=fmt == "json", verbosity=verbosity)
    level = log_level or {Verbosity.QUIET: "ERROR", Verbosity.VERBOSE: "DEBUG"}.get(verbosity, "WARNING")
    # the config is read for the logging options before logging is set up: its warnings (an
    # unknown CNS_ variable, …) wait for it, and so go to stderr in the chosen format
    with held_config_notices():
        configure_logging(
            level=level,
            fmt=fmt,
            # human lines go through the console, so they land above a progress bar, not inside it
            stream=None if output.json else cast(TextIO, ConsoleLogStream(output.console)),
            text_preview_chars=_cli_preview_chars(),
        )
    # a library's warning becomes a log line in the chosen format (JSON stays JSON; a bar stays whole)
    logging.captureWarnings(True)


def _verbosity(quiet: bool, verbose: bool, log_level: str | None) -> Verbosity:
    """--quiet and --verbose each set the log level; with each other or --log-level they clash."""
    if quiet and verbose:
        raise typer.BadParameter("--quiet and --verbose cannot be used together", param_hint="--quiet")
    if log_level is not None and (quiet or verbose):
        raise typer.BadParameter(
            "--log-level cannot be used with --quiet or --verbose (they set the level)",
            param_hint="--log-level",
        )
    return Verbosity.QUIET if quiet else Verbosity.VERBOSE if verbose else Verbosity.NORMAL


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
        out().error(f"[red]error:[/red] {escape(str(exc))}", error=type(exc).__name__)
        raise SystemExit(1) from None
