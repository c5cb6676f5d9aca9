"""``cns config show``: the effective configuration and where each value came from."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cns.config import CNSConfig, config_sources, redacted_config

config_app = typer.Typer(help="Inspect the configuration.", no_args_is_help=True)


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, sub in value.items():
            _flatten(f"{prefix}.{key}" if prefix else key, sub, out)
    else:
        out[prefix] = value


@config_app.command("show")
def show(
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, yaml or json")] = "table",
) -> None:
    """Print the effective configuration (secrets redacted) with the source of each value."""
    config = CNSConfig()
    data = redacted_config(config)
    if fmt == "yaml":
        typer.echo(yaml.safe_dump(data, sort_keys=False))
        return
    if fmt == "json":
        typer.echo(json.dumps(data, indent=2))
        return
    if fmt != "table":
        raise typer.BadParameter("expected table, yaml or json", param_hint="--format")
    flat: dict[str, Any] = {}
    _flatten("", data, flat)
    sources = config_sources(config)
    table = Table(title="effective configuration")
    table.add_column("key")
    table.add_column("value")
    table.add_column("source")
    for key, value in flat.items():
        table.add_row(
            key,
            escape(json.dumps(value) if not isinstance(value, str) else value),
            escape(sources.get(key, "default")),
        )
    Console(width=200).print(table)
