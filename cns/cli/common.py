"""Options and helpers shared by the CLI commands that work on the local store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from cns.config import CNSConfig
from cns.services.llm_gate import gate_llm
from cns.services.runtime import Runtime, open_runtime

DataDirOption = Annotated[
    Path | None,
    typer.Option("--data-dir", help="where the store, index and caches live (default: data_dir, ~/.cns)"),
]


def load_config(data_dir: Path | None, *, pair_syntheses: bool | None = None) -> CNSConfig:
    """The configuration, with ``--data-dir`` and ``--include-syntheses`` applied when given."""
    config = CNSConfig()
    if pair_syntheses is not None:
        population = config.population.model_copy(update={"pair_syntheses": pair_syntheses})
        config = config.model_copy(update={"population": population})
    return config if data_dir is None else config.model_copy(update={"data_dir": data_dir})


@contextmanager
def runtime(data_dir: Path | None, *, pair_syntheses: bool | None = None) -> Iterator[Runtime]:
    """Open the local runtime for one command and always save the index and close the store."""
    opened = open_runtime(load_config(data_dir, pair_syntheses=pair_syntheses))
    try:
        yield opened
    finally:
        opened.close()


def check_llm_once(rt: Runtime, console: Console) -> None:
    """The up-front LLM check of ``cns run`` for the other commands that use the LLM: one line if it
    is unusable, then the offline path (``llm.on_unavailable: fallback``) or a stop (``fail``)."""
    gate = gate_llm(rt.manager)
    if gate.message:
        console.print(f"[yellow]{escape(gate.message)}[/yellow]")


def progress_bar() -> Progress:
    """A Rich progress bar with documents per second and ETA (written to stderr)."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        transient=False,
    )
