"""The population's size limit: beyond ``population.size_limit`` active SNOs, the lowest-trust
are archived (with the reason), so the pair search and the novelty reference stay bounded.

The limit is enforced by :func:`enforce_size_limit`, which :func:`~cns.workflow.lifecycle.pairs.find_and_record_pairs`
calls before every search — so ``cns run``, ``cns pairs``, ``cns synthesize``, ``cns loop`` and
the service's pair sweep all apply it, after any re-score (trust is then current). Between two
searches the population may briefly exceed the limit; nothing is ever deleted, an archived SNO
stays readable with its ``archive_reason``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cns.core.sno import SNOStatus, StructuredNarrativeObject
from cns.logging_setup import get_logger

if TYPE_CHECKING:
    from cns.workflow.manager import CNSWorkflowManager

log = get_logger(__name__)


def over_the_limit(
    population: list[StructuredNarrativeObject], limit: int | None
) -> list[StructuredNarrativeObject]:
    """The SNOs to archive so that at most ``limit`` stay active: lowest trust first (ties by id)."""
    if limit is None or len(population) <= limit:
        return []
    ranked = sorted(population, key=lambda s: (s.trust_score if s.trust_score is not None else 0.0, s.sno_id))
    return ranked[: len(population) - limit]


def enforce_size_limit(manager: CNSWorkflowManager) -> list[StructuredNarrativeObject]:
    """Archive the active SNOs beyond ``population.size_limit``; return them (empty when within)."""
    limit = manager.config.population.size_limit
    if limit is None:
        return []
    population = manager.population()
    excess = over_the_limit(population, limit)
    if not excess:
        return []
    for sno in excess:
        trust = sno.trust_score if sno.trust_score is not None else 0.0
        sno.status = SNOStatus.ARCHIVED
        sno.metadata["archive_reason"] = (
            f"trust score {trust:.4f} is among the {len(excess)} lowest of {len(population)} active SNOs; "
            f"at most {limit} stay active (population.size_limit)"
        )
        manager.store.put(sno)
    log.warning(
        "population.size_limit_archived",
        limit=limit,
        active_before=len(population),
        archived=len(excess),
        sno_ids=[s.sno_id for s in excess][:50],
    )
    return excess
