"""``cns search "question"``: ask the corpus — on the local store, or a running service with ``--api``."""

from __future__ import annotations

import json
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.markup import escape

from cns.cli.common import DataDirOption, runtime
from cns.cli.search_render import render
from cns.errors import CNSError, ValidationError
from cns.services.search import search as search_corpus


def search(
    question: Annotated[str, typer.Argument(help="the question, in words (quote it)")],
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
    narratives: Annotated[
        int | None, typer.Option(min=1, max=50, help="narratives to show (default search.narratives)")
    ] = None,
    claims: Annotated[
        int | None, typer.Option(min=1, max=50, help="claims to show (default search.claims)")
    ] = None,
    include_archived: Annotated[
        bool, typer.Option("--include-archived", help="search archived narratives too")
    ] = False,
    no_answer: Annotated[bool, typer.Option("--no-answer", help="do not ask the LLM for an answer")] = False,
    api: Annotated[str | None, typer.Option("--api", help="ask a running service (URL) instead")] = None,
    api_key: Annotated[str | None, typer.Option(envvar="CNS_API_KEY", help="API key for --api")] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Find the narratives, claims and pairs that bear on a question, and where the corpus disagrees.

    With an LLM configured, a short answer citing only the claims found ([1], [2] …); without one
    the material found is shown, and a line says there is no answer. The first search on a store
    indexes its claims (saved under the data directory for the next one).
    """
    err = Console(stderr=True)
    options: dict[str, Any] = {
        "narratives": narratives,
        "claims": claims,
        "include_archived": include_archived,
        "answer": not no_answer,
    }
    try:
        if api is not None:
            result = fetch(api, question, options, api_key=api_key)
        else:
            with runtime(data_dir) as rt:
                result = search_corpus(rt, question, **options).to_dict()
    except (ValidationError, ServiceError) as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(code=1) from None
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    render(result, Console())


class ServiceError(CNSError):
    """``cns search --api``: the service could not be reached or refused the question."""


def fetch(
    api: str,
    question: str,
    options: dict[str, Any],
    *,
    api_key: str | None = None,
    transport: httpx.BaseTransport | None = None,
) -> dict[str, Any]:
    """``GET /search`` on a running service; every failure is a :class:`ServiceError` saying what to do."""
    params = {"q": question, **{k: v for k, v in options.items() if v is not None}}
    headers = {"X-API-Key": api_key} if api_key else {}
    try:
        with httpx.Client(base_url=api, headers=headers, timeout=120.0, transport=transport) as client:
            response = client.get("/search", params=params)
    except httpx.HTTPError as exc:
        raise ServiceError(f"cannot reach the service at {api}: {exc}") from None
    if response.status_code < 400:
        body: dict[str, Any] = response.json()
        return body
    message = _message(response)
    if response.status_code in (401, 403):
        raise ServiceError(
            f"the service refused the API key ({response.status_code}: {message}); "
            "pass a key with --api-key or CNS_API_KEY"
        )
    raise ServiceError(f"the service answered {response.status_code}: {message}")


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200] or response.reason_phrase


def register(app: typer.Typer) -> None:
    app.command("search")(search)
