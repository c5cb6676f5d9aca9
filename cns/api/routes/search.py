"""``GET /search?q=``: the narratives, claims and pairs that bear on a question (the Ask page's backend)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from cns.api.deps import ReadAccess, ServicesDep
from cns.api.responses import READ, error_responses
from cns.api.stored import NOT_BLANK
from cns.services.search import MAX_QUESTION_CHARS, SearchResult, search

router = APIRouter(tags=["search"], responses=error_responses(*READ, 400))


@router.get("/search", response_model=SearchResult)
def get_search(
    services: ServicesDep,
    _: ReadAccess,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=MAX_QUESTION_CHARS,
            json_schema_extra=NOT_BLANK,  # a blank question is a 400 (documented, not a 422)
            description="the question, in words",
        ),
    ],
    narratives: Annotated[int | None, Query(ge=1, le=50, description="default search.narratives")] = None,
    claims: Annotated[int | None, Query(ge=1, le=50, description="default search.claims")] = None,
    include_archived: Annotated[bool, Query(description="archived narratives too")] = False,
    answer: Annotated[bool, Query(description="ask the configured LLM for a short cited answer")] = True,
) -> SearchResult:
    """Embedding search over hypotheses and claims; the recorded pairs among the narratives found;
    where the corpus disagrees; and, when an LLM is configured, a short answer citing the claims
    found by number (``answer`` is null otherwise, and ``answer_note`` says why).

    Ids and file names throughout, never embeddings. The first search of a process loads the
    embedder (and the NLI model, to judge disagreements) and indexes the corpus's claims.
    """
    with services.using_models():
        return search(
            services.runtime,
            q,
            narratives=narratives,
            claims=claims,
            include_archived=include_archived,
            answer=answer,
        )
