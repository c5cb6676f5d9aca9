"""Options and helpers shared by the CLI commands that work on the local store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from cns.cli.output import out
from cns.config import CNSConfig
from cns.errors import AmbiguousIdError, DocumentNotFoundError, PairNotFoundError, SNONotFoundError
from cns.services.llm_gate import gate_llm
from cns.services.runtime import Runtime, build_runtime

DataDirOption = Annotated[
    Path | None,
    typer.Option("--data-dir", help="where the store, index and caches live (default: data_dir, ~/.cns)"),
]


TopicPairsOption = Annotated[
    bool | None,
    typer.Option(
        "--topic-pairs/--no-topic-pairs",
        help="also pair narratives that cite no common source but are each other's nearest topic "
        "neighbours and oppose (default on: pair_search.topic_neighbours = 20); --no-topic-pairs keeps "
        "only pairs that share evidence",
    ),
]
#: neighbours judged per narrative when --topic-pairs turns the search on over a config that has it off
TOPIC_NEIGHBOURS_WHEN_FORCED = 20


def load_config(
    data_dir: Path | None, *, pair_syntheses: bool | None = None, topic_pairs: bool | None = None
) -> CNSConfig:
    """The configuration, with ``--data-dir``, ``--include-syntheses`` and ``--topic-pairs`` applied."""
    config = CNSConfig()
    if pair_syntheses is not None:
        population = config.population.model_copy(update={"pair_syntheses": pair_syntheses})
        config = config.model_copy(update={"population": population})
    if topic_pairs is not None:
        configured = config.pair_search.topic_neighbours
        neighbours = (configured or TOPIC_NEIGHBOURS_WHEN_FORCED) if topic_pairs else 0
        search = config.pair_search.model_copy(update={"topic_neighbours": neighbours})
        config = config.model_copy(update={"pair_search": search})
    return config if data_dir is None else config.model_copy(update={"data_dir": data_dir})


@contextmanager
def runtime(
    data_dir: Path | None, *, pair_syntheses: bool | None = None, topic_pairs: bool | None = None
) -> Iterator[Runtime]:
    """Open the local runtime for one command and always save the index and close the store."""
    opened = build_runtime(
        load_config(data_dir, pair_syntheses=pair_syntheses, topic_pairs=topic_pairs), "cli"
    )
    try:
        yield opened
    finally:
        opened.close()


def check_llm_once(rt: Runtime) -> None:
    """The up-front LLM check of ``cns run`` for the other commands that use the LLM: one line if it
    is unusable, then the offline path (``llm.on_unavailable: fallback``) or a stop (``fail``)."""
    gate = gate_llm(rt.manager)
    if gate.message:
        out().warning(f"[yellow]{escape(gate.message)}[/yellow]", event="llm.unusable", status=gate.status)


@contextmanager
def lookup_errors() -> Iterator[None]:
    """An id that matches nothing, or several things, is one red line and exit code 1."""
    try:
        yield
    except (AmbiguousIdError, SNONotFoundError, PairNotFoundError, DocumentNotFoundError) as exc:
        out().error(f"[red]error:[/red] {escape(str(exc))}", event="lookup.failed")
        raise typer.Exit(code=1) from None
