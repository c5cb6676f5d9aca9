"""``search(runtime, question)``: the narratives, claims and pairs that bear on a question.

The one implementation behind ``cns search``, ``GET /search`` and the Ask page:

1. the corpus index (every hypothesis and every claim, :class:`~cns.index.corpus.CorpusIndex`) is
   brought up to date with the store's change feed, and the question is embedded by the same
   embedder as the narratives;
2. the nearest hypotheses and claims are kept if at least ``search.min_similarity`` close and
   their narrative is active (archived ones too with ``include_archived``); each claim gets the
   number an answer cites it by;
3. the recorded chiral pairs with a side among them, and the disagreements among the narratives
   found (:mod:`cns.services.search.disagreement`);
4. with an LLM configured, a short answer citing only those claims
   (:mod:`cns.services.search.answer`); without one, no answer, and ``answer_note`` says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from cns.core.sno import SNOStatus, StructuredNarrativeObject
from cns.errors import SNONotFoundError, UnknownNodeError, ValidationError
from cns.index.claims import ClaimKey
from cns.logging_setup import get_logger
from cns.services.search.answer import write_answer
from cns.services.search.disagreement import disagreements, pair_hits
from cns.services.search.evidence import claim_hit, narrative_hit
from cns.services.search.results import Answer, ClaimHit, NarrativeHit, SearchResult

if TYPE_CHECKING:
    from cns.services.runtime import Runtime

log = get_logger(__name__)

#: candidates read from an index per result wanted (some are filtered out by status)
OVERFETCH = 4
#: most claims of one narrative among the claims found, so one document does not fill the list
CLAIMS_PER_NARRATIVE = 3
#: longest question accepted (a question, not a document: the API's query parameter says so too)
MAX_QUESTION_CHARS = 2000


def search(
    runtime: Runtime,
    question: str,
    *,
    narratives: int | None = None,
    claims: int | None = None,
    include_archived: bool = False,
    answer: bool = True,
) -> SearchResult:
    """What the corpus of ``runtime``'s store says about ``question``.

    ``narratives`` and ``claims`` default to ``search.narratives`` / ``search.claims``; with
    ``answer=False`` the LLM is not asked even when one is configured. Raises
    :class:`~cns.errors.ValidationError` for a blank or too long question.
    """
    config = runtime.config
    text = check_question(question)
    statuses = {SNOStatus.ACTIVE.value} | ({SNOStatus.ARCHIVED.value} if include_archived else set())
    corpus = runtime.corpus
    corpus.sync()
    vector = runtime.manager.embedder.encode([text])[0]
    lookup = _cached_lookup(runtime.store.get)
    floor = config.search.min_similarity

    def allowed(sno_id: str, score: float) -> StructuredNarrativeObject | None:
        sno = lookup(sno_id) if score >= floor else None
        return sno if sno is not None and sno.status.value in statuses else None

    wanted = narratives or config.search.narratives
    found: list[tuple[StructuredNarrativeObject, NarrativeHit]] = []
    for sno_id, score in corpus.narratives.search(vector[None, :], wanted * OVERFETCH)[0]:
        sno = allowed(sno_id, score)
        if sno is not None and len(found) < wanted:
            found.append((sno, narrative_hit(sno, score)))
    claim_hits = _claims(
        corpus.claims.search(vector, (claims or config.search.claims) * OVERFETCH),
        claims or config.search.claims,
        allowed,
    )
    snos = [sno for sno, _ in found]
    related = snos + _unseen(lookup(c.sno_id) for c in claim_hits if c.sno_id not in {s.sno_id for s in snos})
    pairs = pair_hits(related, lambda sno_id: runtime.store.list_pairs(sno_id=sno_id), lookup)
    disputes = disagreements(
        snos, pairs, config, nli=lambda: runtime.manager.nli, embedder=runtime.manager.embedder
    )
    written, note = _answer(runtime, text, claim_hits, answer)
    log.info(
        "search.complete",
        narratives=len(found),
        claims=len(claim_hits),
        pairs=len(pairs),
        disagreements=len(disputes),
        answered=written is not None,
    )
    return SearchResult(text, [hit for _, hit in found], claim_hits, pairs, disputes, written, note)


def check_question(question: str, max_chars: int = MAX_QUESTION_CHARS) -> str:
    """The question, stripped; a blank or too long one is a :class:`ValidationError`."""
    text = " ".join(str(question).split())
    if not text:
        raise ValidationError(
            'the question is empty: ask something, e.g. cns search "does coffee help memory?"'
        )
    if len(text) > max_chars:
        raise ValidationError(f"the question has {len(text)} characters; at most {max_chars} are accepted")
    return text


def _claims(
    hits: Iterable[tuple[ClaimKey, float]],
    wanted: int,
    allowed: Callable[[str, float], StructuredNarrativeObject | None],
) -> list[ClaimHit]:
    """The claims kept, numbered from 1, at most :data:`CLAIMS_PER_NARRATIVE` per narrative."""
    out: list[ClaimHit] = []
    per_narrative: dict[str, int] = {}
    for key, score in hits:
        sno = allowed(key.sno_id, score)
        if sno is None or per_narrative.get(key.sno_id, 0) >= CLAIMS_PER_NARRATIVE:
            continue
        try:
            claim = sno.get_claim(key.claim_id)
        except UnknownNodeError:  # the narrative changed after the index was synced
            continue
        per_narrative[key.sno_id] = per_narrative.get(key.sno_id, 0) + 1
        out.append(claim_hit(sno, claim, score, len(out) + 1))
        if len(out) == wanted:
            break
    return out


def _answer(
    runtime: Runtime, question: str, claims: list[ClaimHit], wanted: bool
) -> tuple[Answer | None, str]:
    if not wanted:
        return None, "no answer: not asked for (the material found is shown)"
    llm = runtime.manager.llm
    if llm is None:
        why = (
            runtime.manager.llm_unavailable
            or f"no LLM is configured (llm.backend: {runtime.config.llm.backend})"
        )
        return None, f"no answer: {why}; the narratives, claims and pairs found are shown as they are"
    return write_answer(llm, question, claims, runtime.config)


def _cached_lookup(
    get: Callable[[str], StructuredNarrativeObject],
) -> Callable[[str], StructuredNarrativeObject | None]:
    """``get`` that answers None for an SNO deleted since the index saw it, and reads each id once."""
    seen: dict[str, StructuredNarrativeObject | None] = {}

    def lookup(sno_id: str) -> StructuredNarrativeObject | None:
        if sno_id not in seen:
            try:
                seen[sno_id] = get(sno_id)
            except SNONotFoundError:
                seen[sno_id] = None
        return seen[sno_id]

    return lookup


def _unseen(snos: Iterable[StructuredNarrativeObject | None]) -> list[StructuredNarrativeObject]:
    out: dict[str, StructuredNarrativeObject] = {}
    for sno in snos:
        if sno is not None:
            out.setdefault(sno.sno_id, sno)
    return list(out.values())
