"""``cns llm check``: test the configured LLM endpoint before a long run.

Prints one line per step (reachable, model, JSON round trip) and exits 0 when the LLM is usable,
2 when the server cannot be reached, 3 when it does not serve the configured model and 4 when it
does not return valid JSON; 1 is, as for every command, a configuration error.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from cns.config import CNSConfig
from cns.models.llm_check import check_llm

llm_app = typer.Typer(help="Work with the configured LLM (llm.* settings).", no_args_is_help=True)


@llm_app.command("check")
def check(
    json_round_trip: Annotated[
        bool, typer.Option(help="also ask the model for one small JSON answer (slower on big models)")
    ] = True,
    fmt: Annotated[str, typer.Option("--format", "-f", help="text or json")] = "text",
) -> None:
    """Check reachability, that the model is served, and one structured-JSON round trip."""
    if fmt not in ("text", "json"):
        raise typer.BadParameter("expected text or json", param_hint="--format")
    config = CNSConfig()
    console = Console(soft_wrap=True)
    if config.llm.backend in ("none", "fake"):
        what = "no LLM is configured" if config.llm.backend == "none" else "llm.backend is the test fake"
        message = f"{what} (llm.backend {config.llm.backend!r}); set llm.backend to ollama, llamacpp, "
        message += "vllm or openai and llm.model — see docs/llm.md"
        if fmt == "json":
            typer.echo(json.dumps({"ok": False, "exit_code": 1, "problem": message}))
        else:
            console.print(f"[yellow]{escape(message)}[/yellow]")
        raise typer.Exit(1)
    report = check_llm(config.llm, json_round_trip=json_round_trip)
    if fmt == "json":
        typer.echo(json.dumps(report.to_dict(), indent=2))
        raise typer.Exit(report.exit_code)
    console.print(
        f"LLM [bold]{report.backend}[/bold] at {escape(report.base_url)}, model {escape(report.model)!r}, "
        f"structured output {report.structured_output}"
    )
    for step in report.steps:
        mark = "[green]ok  [/green]" if step.ok else "[red]FAIL[/red]"
        console.print(f"  {mark} {step.name:<9} {escape(step.detail)}  ({step.seconds:.2f} s)")
    if report.ok:
        console.print("[green]the LLM is ready[/green]")
    else:
        console.print(f"[red]the LLM is not usable (exit {report.exit_code})[/red]")
    raise typer.Exit(report.exit_code)
