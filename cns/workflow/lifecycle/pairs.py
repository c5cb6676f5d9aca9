"""Find and record chiral pairs, and rebuild a recorded pair — the same for every edge.

``cns run``, ``cns pairs``, ``cns synthesize``, ``cns loop`` and the service's pair sweep all
search the population returned by :func:`pairing_population`: the active SNOs, without
syntheses unless ``population.pair_syntheses`` says they pair again. A store that keeps pairs
(SQL) records every pair found with everything the search said about it, so a pair rebuilt from
the store (:func:`rebuild_pair`, what ``cns synthesize PAIR_ID`` and a ``synthesize`` job use)
is the pair that was found.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from cns.core.ids import stable_id
from cns.core.progress import ProgressCallback
from cns.core.sno import StructuredNarrativeObject
from cns.errors import PairNotFoundError, ValidationError
from cns.logging_setup import get_logger
from cns.metrics.shared_facts import EvidenceMatch
from cns.pairs import ChiralPair, ConflictPoint, PairSearchResult, search_chiral_pairs
from cns.pairs.explain import PairExplanation, explain_pair
from cns.pairs.types import PairSource
from cns.store.sql import PairRecord, SQLStore
from cns.synthesis.view import is_synthesis
from cns.workflow.lifecycle.population import enforce_size_limit

if TYPE_CHECKING:
    from cns.workflow.manager import CNSWorkflowManager

log = get_logger(__name__)


def pairing_population(manager: CNSWorkflowManager) -> list[StructuredNarrativeObject]:
    """The SNOs that may pair: the active population, syntheses only if ``population.pair_syntheses``.

    Without syntheses a report over a corpus is the same, and as fast, on every re-run; with
    them every accepted synthesis can start a new generation.
    """
    population = manager.population()
    if manager.config.population.pair_syntheses:
        return population
    return [s for s in population if not is_synthesis(s)]


def population_fingerprint(manager: CNSWorkflowManager) -> str:
    """A digest of the pairing population as the pair search sees it: ids, statuses and trust.

    Why: ``cns loop`` searches every few seconds; when nothing was ingested, synthesized, archived
    or re-scored since its last search, the search would judge the same pairs again — model work
    and a progress line per step for nothing — so the loop keeps its last result while this stays
    the same.
    """
    rows = sorted((s.sno_id, str(s.status), repr(s.trust_score)) for s in pairing_population(manager))
    return stable_id(*("|".join(row) for row in rows), length=32)


def find_and_record_pairs(
    manager: CNSWorkflowManager, *, progress: ProgressCallback | None = None
) -> PairSearchResult:
    """Search the pairing population for chiral pairs and record them when the store keeps pairs.

    The population is first brought within ``population.size_limit``
    (:func:`~cns.workflow.lifecycle.population.enforce_size_limit`). ``progress`` hears how far
    each stage of the search has got.
    """
    enforce_size_limit(manager)
    result = search_chiral_pairs(
        pairing_population(manager),
        manager.config,
        nli=manager.nli,
        embedder=manager.embedder,
        progress=progress,
    )
    if isinstance(manager.store, SQLStore):
        record_pairs(manager.store, result.pairs)
    log.info("pairs.found", population=result.stats.population, pairs=len(result.pairs))
    return result


def pair_record(pair: ChiralPair) -> PairRecord:
    """What the store keeps of a pair found by the search."""
    return PairRecord(
        pair.sno_a.sno_id,
        pair.sno_b.sno_id,
        pair.chirality,
        pair.entanglement,
        pair.potential,
        shared=sorted(pair.shared_evidence),
        conflicts=[c.to_dict() for c in pair.conflict_points],
        opposition=pair.opposition,
        source=pair.source,
        evidence_matches=[m.to_dict() for m in pair.evidence_matches],
    )


def record_pairs(store: SQLStore, pairs: Sequence[ChiralPair]) -> list[PairRecord]:
    """Upsert each pair under its stable id (finding a pair again updates it, never duplicates)."""
    return [store.record_pair(pair_record(p)) for p in pairs]


def rebuild_pair(store: SQLStore, pair_id: str) -> ChiralPair:
    """The :class:`ChiralPair` recorded under ``pair_id``, with its SNOs as they are stored now.

    Raises :class:`~cns.errors.PairNotFoundError` if no such pair is stored and
    :class:`~cns.errors.SNONotFoundError` if one of its SNOs is gone.
    """
    record = store.get_pair(pair_id)
    if record is None:
        raise PairNotFoundError.for_id(pair_id)
    source: PairSource = "opposition" if record.source == "opposition" else "evidence"
    return ChiralPair(
        store.get(record.sno_a),
        store.get(record.sno_b),
        record.chirality,
        record.entanglement,
        record.potential,
        frozenset(str(k) for k in record.shared),
        [ConflictPoint.from_dict(c) for c in record.conflicts if isinstance(c, dict)],
        opposition=record.opposition,
        source=source,
        evidence_matches=[EvidenceMatch.from_dict(m) for m in record.evidence_matches if isinstance(m, dict)],
    )


def judge_population(
    manager: CNSWorkflowManager, *, progress: ProgressCallback | None = None
) -> tuple[list[StructuredNarrativeObject], PairSearchResult]:
    """The pairing population and the pair search over it, recording nothing.

    What ``cns why`` and the web interface's near misses read: every pair the search judged,
    with the rule that stopped it. Like :func:`explain` it changes nothing, so it does not apply
    ``population.size_limit`` either.
    """
    population = pairing_population(manager)
    search = search_chiral_pairs(
        population, manager.config, nli=manager.nli, embedder=manager.embedder, progress=progress
    )
    return population, search


def explain(
    manager: CNSWorkflowManager, sno_a: str, sno_b: str, *, progress: ProgressCallback | None = None
) -> PairExplanation:
    """Why the stored SNOs ``sno_a`` and ``sno_b`` are, or are not, a chiral pair (``cns why``).

    Runs the same search as ``cns pairs`` over the same population (the side check and the cap
    on pairs depend on every other judged pair) without recording anything, then explains the
    one pair from it (:func:`cns.pairs.explain.explain_pair`). It changes nothing, so it does not
    apply ``population.size_limit`` either: it explains the population as it is stored.
    ``progress`` hears the search's steps, as in ``cns pairs`` (on a large population the search
    takes minutes).
    """
    if sno_a == sno_b:
        raise ValidationError(f"{sno_a} and {sno_b} are the same narrative: give two different ones")
    population, search = judge_population(manager, progress=progress)
    return explain_pair(
        manager.store.get(sno_a),
        manager.store.get(sno_b),
        population=population,
        search=search,
        config=manager.config,
        nli=manager.nli,
        embedder=manager.embedder,
    )
