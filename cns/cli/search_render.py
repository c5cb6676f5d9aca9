"""Rich output of ``cns search``, drawn from the result's JSON so the local store and ``--api`` print alike.

Everything that comes from a document — hypotheses, claims, passages, file names, the answer —
is escaped: a document holding ``[bold]`` or ``[link=…]`` prints as the text it is.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cns.services.lookup import file_label, short_id

#: characters of a passage shown under its claim
PASSAGE_CHARS = 240


def _cut(text: str, limit: int) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _where(item: dict[str, Any]) -> str:
    where = file_label(item.get("file"))
    if item.get("start") is not None and item.get("end") is not None:
        where += f":{item['start']}-{item['end']}"
    return where


def render(result: dict[str, Any], console: Console) -> None:
    """Print a search result: the answer (or why there is none), then what it rests on."""
    console.print(f"[bold]Question:[/bold] {escape(result['question'])}", soft_wrap=True)
    _answer(result, console)
    _narratives(result["narratives"], console)
    _claims(result["claims"], console)
    _disagreements(result["disagreements"], console)
    _pairs(result["pairs"], console)


def _answer(result: dict[str, Any], console: Console) -> None:
    answer = result.get("answer")
    if answer:
        console.print(f"\n[bold green]Answer[/bold green] [dim]({escape(answer['model'])})[/dim]")
        console.print(escape(answer["text"]), soft_wrap=True)
        console.print(f"[dim]{escape(result['answer_note'])}[/dim]", soft_wrap=True)
    else:
        console.print(f"\n[yellow]{escape(result['answer_note'])}[/yellow]", soft_wrap=True)


def _narratives(items: list[dict[str, Any]], console: Console) -> None:
    if not items:
        console.print("\nNo narrative is close enough to the question (search.min_similarity).")
        return
    table = Table(title=f"{len(items)} narratives", title_justify="left")
    for column in ("score", "sno id", "file", "status", "trust", "hypothesis"):
        table.add_column(column, overflow="fold")
    for item in items:
        trust = "–" if item["trust"] is None else f"{item['trust']:.2f}"
        status = item["status"] + (" (synthesis)" if item["synthesis"] else "")
        table.add_row(
            f"{item['score']:.2f}",
            escape(short_id(item["sno_id"])),
            escape(file_label(item["file"])),
            escape(status),
            trust,
            escape(item["hypothesis"]),
        )
    console.print(table)


def _claims(items: list[dict[str, Any]], console: Console) -> None:
    if not items:
        return
    console.print(f"\n[bold]{len(items)} claims[/bold] (an answer cites them by number)")
    for item in items:
        number = escape(f"[{item['number']}]")
        console.print(
            f"[bold]{number}[/bold] {escape(item['text'])}  "
            f"[dim]{escape(_where(item))} · {item['score']:.2f} · {escape(short_id(item['sno_id']))}[/dim]",
            soft_wrap=True,
        )
        for span in item["evidence"]:
            cites = f" [dim]cites {escape(span['cites'])}[/dim]" if span.get("cites") else ""
            console.print(
                f"    [dim]“{escape(_cut(span['text'], PASSAGE_CHARS))}” {escape(_where(span))}[/dim]{cites}",
                soft_wrap=True,
            )


def _disagreements(items: list[dict[str, Any]], console: Console) -> None:
    if not items:
        console.print("\nNo disagreement among the narratives found.")
        return
    console.print(f"\n[bold]Where the corpus disagrees[/bold] ({len(items)})")
    for item in items:
        console.print(
            f"• {escape(file_label(item['file_a']))} ↔ {escape(file_label(item['file_b']))}: "
            f"opposition {item['opposition']:.2f} — {escape(item['why'])}",
            soft_wrap=True,
        )
        console.print(f"    A: {escape(item['hypothesis_a'])}", soft_wrap=True)
        console.print(f"    B: {escape(item['hypothesis_b'])}", soft_wrap=True)


def _pairs(items: list[dict[str, Any]], console: Console) -> None:
    if not items:
        return
    table = Table(title=f"{len(items)} recorded pairs", title_justify="left")
    for column in ("pair id", "files", "chirality", "potential", "both found"):
        table.add_column(column, overflow="fold")
    for item in items:
        files = f"{file_label(item['file_a'])} ↔ {file_label(item['file_b'])}"
        table.add_row(
            escape(short_id(item["pair_id"])),
            escape(files),
            f"{item['chirality']:.2f}",
            f"{item['potential']:.2f}",
            "yes" if item["both_found"] else "one side",
        )
    console.print(table)
