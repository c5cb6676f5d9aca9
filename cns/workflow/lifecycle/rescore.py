"""Re-scoring: novelty drifts as the population grows, so trust is recomputed when it has grown.

An SNO's novelty is measured against the reference set at the time it was evaluated; after
more documents arrive an early SNO may turn out to repeat a later one. :func:`rescore_population`
evaluates every active SNO again against the current reference set and archives (with the
reason) those whose trust fell to the ingest threshold or below.

When: whenever the population has grown since the last re-score — more SNOs extracted from
documents than at the last re-score. The count at the last re-score is a marker in the store
(:data:`RESCORE_MARKER`), so ``cns run``, ``cns loop`` and the service's pair sweep share it: a
re-score done by one is not repeated by another, and a run killed before its re-score does it
on the next run.

Also when the NLI model changed (a new version of the shipped weights, another backend): trust
stored under the old model would otherwise stay until the population grows, beside trust of new
documents judged by the new model. Each model that re-scored leaves its own marker
(:func:`model_marker`: a fingerprint of the model's name and weights, without the precision
suffix, so bf16 and fp32 machines agree). A model re-scores once, when its marker is missing —
never because *another* model re-scored since: two workers whose ``auto`` backend differs (one
has local Hugging Face weights, one does not) each re-score once instead of taking turns forever.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cns.core.progress import RESCORE, ProgressCallback, no_progress
from cns.core.sno import SNOStatus, StructuredNarrativeObject
from cns.logging_setup import get_logger
from cns.store.sql import SQLStore
from cns.synthesis.view import is_synthesis
from cns.workflow.lifecycle.admission import admit

if TYPE_CHECKING:
    from cns.workflow.manager import CNSWorkflowManager

log = get_logger(__name__)

#: Store marker: how many document SNOs were stored when the population was last re-scored.
RESCORE_MARKER = "rescored_documents"
#: Prefix of the per-model markers (:func:`model_marker`); the value is the population mark then.
MODEL_MARKER_PREFIX = "rescored_nli_"
_PRECISION_SUFFIXES = ("-bf16", "-int8")


@dataclass(frozen=True)
class RescoreArchival:
    """An SNO that re-scoring moved out of the active population, and why."""

    sno_id: str
    source: str | None
    trust_before: float | None
    trust_after: float
    reason: str
    critics: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "sno_id": self.sno_id,
            "source": self.source,
            "trust_before": self.trust_before,
            "trust_after": self.trust_after,
            "reason": self.reason,
            "critics": dict(self.critics),
        }


@dataclass
class RescoreReport:
    changed: int = 0
    archived: list[RescoreArchival] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"changed": self.changed, "archived": [a.to_dict() for a in self.archived]}


def rescore_population(
    manager: CNSWorkflowManager, *, progress: ProgressCallback = no_progress
) -> RescoreReport:
    """Re-evaluate every active SNO against the current reference set and store what changed.

    An SNO whose trust falls to or below the ingest threshold is archived with the reason, logged
    (``population.rescore_archived``, a warning) and listed in the returned report, so the CLI and
    the run report can show it; the reference set is the stored trust before this pass, so the
    order does not matter. ``progress`` hears after each SNO (step ``re-score``).
    """
    population = manager.population()
    reference = manager.reference_index()
    by_id = {sno.sno_id: sno for sno in population}
    report = RescoreReport()
    changed: list[StructuredNarrativeObject] = []
    progress(RESCORE, 0, len(population))
    for done, sno in enumerate(population, 1):
        before, models_before = sno.trust_score, _judged_with(sno)
        result = manager.evaluator.evaluate(sno, reference_index=reference, reference_lookup=by_id.get)
        reason = admit(sno, manager.config, rescored=True)
        if reason is not None:
            critics = {name: round(r.score, 4) for name, r in result.critic_results.items()}
            trust = sno.trust_score or 0.0
            archived = RescoreArchival(sno.sno_id, sno.metadata.get("source"), before, trust, reason, critics)
            report.archived.append(archived)
            log.warning("population.rescore_archived", **archived.to_dict())
        # a new model that happens to give the same trust is still stored: the record says who judged
        if (
            sno.trust_score != before
            or sno.status is not SNOStatus.ACTIVE
            or _judged_with(sno) != models_before
        ):
            changed.append(sno)
        progress(RESCORE, done, len(population))
    for sno in changed:
        manager.store.put(sno)
    report.changed = len(changed)
    log.info(
        "population.rescored", population=len(population), changed=len(changed), archived=len(report.archived)
    )
    return report


def _judged_with(sno: StructuredNarrativeObject) -> dict[str, Any]:
    """The models each critic recorded in the SNO's evaluation ({} before any evaluation)."""
    results = (sno.evaluation or {}).get("critic_results") or {}
    return {name: result.get("models") for name, result in results.items() if isinstance(result, dict)}


def rescore_one(manager: CNSWorkflowManager, sno_id: str) -> StructuredNarrativeObject:
    """Re-run the critics on one stored SNO against the current reference set and store it.

    An active SNO whose trust fell to the ingest threshold or below is archived, as in
    :func:`rescore_population`.
    """
    sno = manager.store.get(sno_id)
    manager.evaluator.evaluate(sno, reference_index=manager.reference_index())
    if sno.status is SNOStatus.ACTIVE:
        admit(sno, manager.config, rescored=True)
    manager.store.put(sno)
    return sno


def population_mark(manager: CNSWorkflowManager) -> int:
    """How big the population has grown: the number of stored SNOs extracted from documents."""
    store = manager.store
    if isinstance(store, SQLStore):
        return store.count_document_snos()
    return sum(1 for s in store.list() if not is_synthesis(s))


def rescore_due(manager: CNSWorkflowManager) -> int | None:
    """The population mark if a re-score is due, else None: the population grew since the last
    re-score, or the NLI model in use never re-scored this store."""
    mark = population_mark(manager)
    if mark <= 0:
        return None
    last = last_rescore_mark(manager)
    grown = last is None or mark > last
    return mark if grown or not _model_rescored(manager) else None


def model_marker(manager: CNSWorkflowManager) -> str:
    """Marker name of the NLI model the critics judge with: name and weights, not precision."""
    nli = manager.nli
    version = str(nli.version)
    for suffix in _PRECISION_SUFFIXES:
        version = version.removesuffix(suffix)
    digest = hashlib.sha256(f"{nli.name}@{version}".encode()).hexdigest()[:12]
    return MODEL_MARKER_PREFIX + digest


def _model_rescored(manager: CNSWorkflowManager) -> bool:
    store = manager.store
    if isinstance(store, SQLStore):
        return store.read_marker(model_marker(manager)) is not None
    return model_marker(manager) in manager.rescored_models


def last_rescore_mark(manager: CNSWorkflowManager) -> int | None:
    store = manager.store
    if isinstance(store, SQLStore):
        return store.read_marker(RESCORE_MARKER)
    return manager.rescored_mark


def mark_rescored(manager: CNSWorkflowManager, mark: int) -> None:
    """Remember that the population was re-scored at ``mark`` with the current NLI model (the
    population marker never moves back)."""
    last = last_rescore_mark(manager)
    store = manager.store
    if isinstance(store, SQLStore):
        store.write_marker(model_marker(manager), mark)
        if last is None or last < mark:
            store.write_marker(RESCORE_MARKER, mark)
        return
    manager.rescored_models.add(model_marker(manager))
    if last is None or last < mark:
        manager.rescored_mark = mark


def rescore_if_due(manager: CNSWorkflowManager, *, progress: ProgressCallback = no_progress) -> RescoreReport:
    """Re-score the population if it grew since the last re-score (an empty report otherwise)."""
    mark = rescore_due(manager)
    if mark is None:
        return RescoreReport()
    report = rescore_population(manager, progress=progress)
    mark_rescored(manager, mark)
    return report
