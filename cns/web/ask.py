"""The Ask page (``/ui/ask?q=``): a question over the corpus, answered by the search service.

The page calls :func:`cns.services.search.search` — the function behind ``GET /search`` and
``cns search`` — with the API's runtime, so it finds, judges disagreements and answers exactly as
they do; this module only arranges the result for the template. The answer's citations become
links to the numbered claims: the text around them stays plain text (escaped by the template),
and only numbers the service already checked against the claims found are linked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from cns.errors import ModelError, ValidationError
from cns.logging_setup import get_logger
from cns.services.search import MAX_QUESTION_CHARS, SearchResult, search
from cns.services.search.answer import CITATION
from cns.web.deps import ServicesDep, ViewerDep
from cns.web.render import page

router = APIRouter(include_in_schema=False)
EMPTY = "The question is empty: type a question in words, e.g. “do continents drift?”"
log = get_logger(__name__)


@dataclass(frozen=True)
class AnswerPart:
    """A run of the answer's text, or (``numbers`` set) one citation such as ``[1][3]``."""

    text: str
    numbers: tuple[int, ...] = ()


def answer_parts(text: str, given: set[int]) -> list[AnswerPart]:
    """The answer split at its citations; a citation of a number not given stays plain text."""
    parts: list[AnswerPart] = []
    position = 0
    for match in CITATION.finditer(text):
        numbers = tuple(int(n) for n in match.group(1).split(","))
        if not all(n in given for n in numbers):
            continue
        if match.start() > position:
            parts.append(AnswerPart(text[position : match.start()]))
        parts.append(AnswerPart(match.group(0), numbers))
        position = match.end()
    if position < len(text):
        parts.append(AnswerPart(text[position:]))
    return parts


def ask_context(result: SearchResult) -> dict[str, Any]:
    """What the template shows for ``result``: the result, the answer's parts, and which of the
    recorded pairs are not already shown as a disagreement."""
    disputed = {d.pair_id for d in result.disagreements if d.pair_id}
    given = {claim.number for claim in result.claims}
    return {
        "result": result,
        "answer": answer_parts(result.answer.text, given) if result.answer else [],
        "other_pairs": [p for p in result.pairs if p.pair_id not in disputed],
        "found_anything": bool(result.narratives or result.claims),
    }


@router.get("/ui/ask", response_class=HTMLResponse)
def ask(
    request: Request,
    who: ViewerDep,
    services: ServicesDep,
    q: Annotated[str | None, Query(max_length=MAX_QUESTION_CHARS)] = None,
    include_archived: Annotated[bool, Query()] = False,
) -> HTMLResponse:
    """The question form; with ``q``, what the corpus says about it."""
    context: dict[str, Any] = {
        "q": q or "",
        "include_archived": include_archived,
        "max_chars": MAX_QUESTION_CHARS,
    }
    if q is None:
        return page(request, who, "ask.html.j2", **context)
    if not q.strip():
        return page(request, who, "ask.html.j2", status=400, problem=EMPTY, **context)
    try:
        with services.using_models():
            result = search(services.runtime, q, include_archived=include_archived)
    except ValidationError as exc:  # too long once whitespace is counted as the service counts it
        return page(request, who, "ask.html.j2", status=400, problem=exc.message, **context)
    except ModelError as exc:  # the embedder (or the NLI model) could not be loaded
        log.warning("web.ask_failed", reason=exc.message[:200])
        problem = f"the question could not be searched: {exc.message}"
        return page(request, who, "ask.html.j2", status=503, problem=problem, **context)
    return page(request, who, "ask.html.j2", **context, **ask_context(result))
