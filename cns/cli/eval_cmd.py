"""``cns eval models``: measure NLI backends on the public data (docs/models.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cns.config import CNSConfig
from cns.services.model_eval import BASELINE, evaluate_backends

eval_app = typer.Typer(help="Measure model quality on the public labelled data.", no_args_is_help=True)


@eval_app.command("models")
def models(
    backend: Annotated[
        list[str] | None,
        typer.Option(
            "--backend", "-b", help=f"NLI backend(s): embedded, transformers, llm, fake, {BASELINE}"
        ),
    ] = None,
    split: Annotated[str, typer.Option(help="train, dev or test (numbers are reported on test)")] = "test",
    json_out: Annotated[Path | None, typer.Option("--json", help="also write the metrics as JSON")] = None,
) -> None:
    """Print SNLI accuracy, FEVER-Symmetric AUC / paired accuracy, PERSPECTRUM AUCs and throughput."""
    from cns.models.evaluation import format_table

    if split not in ("train", "dev", "test"):
        raise typer.BadParameter("expected train, dev or test", param_hint="--split")
    chosen = backend or ["embedded", BASELINE, "fake"]
    results = evaluate_backends(chosen, CNSConfig(), split=split)
    typer.echo(format_table(results))
    typer.echo("\nload time (s): " + ", ".join(f"{k} {v['load_seconds']:.2f}" for k, v in results.items()))
    if json_out is not None:
        json_out.write_text(json.dumps(results, indent=2, sort_keys=True), encoding="utf-8")
        typer.echo(f"wrote {json_out}")
