"""The population lifecycle as background jobs over the shared store.

Nothing here decides anything about pairs or syntheses: the steps are the lifecycle's
(:mod:`cns.workflow.lifecycle`), the same that ``cns run`` takes; this module only turns them
into jobs.

``sweep`` is what celery beat runs. When the population has grown since the last re-score it
submits one ``rescore`` job (deduplicated by the population size), whose handler re-scores, then
searches pairs — the order of ``cns run``. Otherwise it searches the pairing population for
chiral pairs, records them (upsert by the pair's stable id) and submits one ``synthesize`` job
per pair not in cooldown. The job's idempotency key includes the pair's attempt count, so while
a synthesis of a pair is queued or running, later sweeps find the same key and add nothing.

``submit_pair_search`` is the same step asked for by a person (``POST /pairs/search``): a
``pair_search`` job whose handler re-scores first if the population grew, then searches pairs and
schedules their syntheses, so its progress and outcome can be polled like any job's.

``synthesize_job_handler`` runs one synthesis through
:func:`~cns.workflow.lifecycle.synthesize_for_job`: the synthesized SNO, its attempt and the
job's SUCCESS are written in one transaction fenced by the claim's lease token, so a crash
leaves none of them (the redelivered job synthesizes again instead of being skipped) and a
delivery that lost its lease to another worker adds no second candidate or attempt.
"""

from __future__ import annotations

from typing import Any

from cns.config.settings import CNSConfig
from cns.core.records import JobCompletion
from cns.errors import JobError
from cns.logging_setup import get_logger
from cns.ports import Publisher
from cns.services.job_kinds import (
    PAIR_SEARCH,
    RESCORE,
    RESCORE_POPULATION,
    SEARCH_PAIRS,
    SYNTHESIZE,
    SYNTHESIZE_PAIR,
)
from cns.services.jobs import JobHandler, Submission, submit_job
from cns.store.sql import JobRecord, SQLStore, pair_id_for
from cns.synthesis import SynthesisResult
from cns.workflow.lifecycle import (
    find_and_record_pairs,
    mark_rescored,
    model_marker,
    rebuild_pair,
    rescore_due,
    rescore_population,
    synthesize_for_job,
)
from cns.workflow.manager import CNSWorkflowManager

log = get_logger(__name__)


def submit_synthesis(
    *, store: SQLStore, publisher: Publisher, config: CNSConfig, pair_id: str, force: bool = False
) -> Submission:
    """Submit a ``synthesize`` job for a stored pair (deduplicated per pair and attempt number)."""
    if store.get_pair(pair_id) is None:
        raise JobError(f"no stored pair with id {pair_id!r}", pair_id=pair_id)
    last = store.last_attempt(pair_id)
    key = f"{pair_id}:{0 if last is None else last.attempt_no}:{'force' if force else 'auto'}"
    return submit_job(
        store=store,
        publisher=publisher,
        config=config,
        kind=SYNTHESIZE,
        task_name=SYNTHESIZE_PAIR,
        payload={"pair_id": pair_id, "force": force},
        idempotency_key=key,
    )


def find_and_schedule(
    *, store: SQLStore, publisher: Publisher, config: CNSConfig, manager: CNSWorkflowManager
) -> dict[str, Any]:
    """Search and record pairs, submit a synthesis of each pair not in cooldown; counts for the log."""
    search = find_and_record_pairs(manager)
    attempts = manager.attempt_log
    scheduled = 0
    for pair in search.pairs:
        if attempts.ready(*pair.key):
            pair_id = pair_id_for(*pair.key)
            submission = submit_synthesis(store=store, publisher=publisher, config=config, pair_id=pair_id)
            scheduled += int(submission.created)
    log.info("find_pairs.complete", pairs=len(search.pairs), scheduled=scheduled)
    return {"pairs": len(search.pairs), "scheduled": scheduled}


def sweep(
    *, store: SQLStore, publisher: Publisher, config: CNSConfig, manager: CNSWorkflowManager
) -> dict[str, Any]:
    """The periodic step: a ``rescore`` job if the population grew, else :func:`find_and_schedule`.

    A re-score job that failed for good does not block the pair search: the sweep then searches
    without it (and the next growth of the population submits a new one).
    """
    mark = rescore_due(manager)
    if mark is not None:
        submission = submit_job(
            store=store,
            publisher=publisher,
            config=config,
            kind=RESCORE,
            task_name=RESCORE_POPULATION,
            payload={"mark": mark},
            # the model is part of the key: a re-score for a new model at the same size is a new job
            idempotency_key=f"population:{mark}:{model_marker(manager)}",
        )
        if not submission.job.state.terminal:
            log.info("find_pairs.rescore_first", job_id=submission.job.job_id, mark=mark)
            return {"pairs": 0, "scheduled": 0, "rescore_job_id": submission.job.job_id}
    return find_and_schedule(store=store, publisher=publisher, config=config, manager=manager)


def _rescore(manager: CNSWorkflowManager, mark: int) -> dict[str, Any]:
    """Re-score the population and remember its size (``mark``); counts for the job's result."""
    report = rescore_population(manager)
    mark_rescored(manager, mark)
    return {"mark": mark, "rescored": report.changed, "archived": len(report.archived)}


def rescore_job_handler(
    store: SQLStore, manager: CNSWorkflowManager, publisher: Publisher, config: CNSConfig
) -> JobHandler:
    """Re-score the population, remember its size, then search pairs and schedule syntheses."""

    def run(job: JobRecord) -> dict[str, Any]:
        rescored = _rescore(manager, int(job.payload["mark"]))
        return {
            **rescored,
            **find_and_schedule(store=store, publisher=publisher, config=config, manager=manager),
        }

    return run


def submit_pair_search(
    *,
    store: SQLStore,
    publisher: Publisher,
    config: CNSConfig,
    idempotency_key: str | None = None,
    owner: str | None = None,
) -> Submission:
    """A ``pair_search`` job: what the periodic sweep does, now, as a job a client can poll.

    Each call is a new job (a replay of ``idempotency_key`` returns the first): two searches of one
    population record the same pairs (upserts) and schedule each synthesis once (its own key).
    """
    return submit_job(
        store=store,
        publisher=publisher,
        config=config,
        kind=PAIR_SEARCH,
        task_name=SEARCH_PAIRS,
        payload={},
        idempotency_key=idempotency_key,
        owner=owner,
    )


def pair_search_job_handler(
    store: SQLStore, manager: CNSWorkflowManager, publisher: Publisher, config: CNSConfig
) -> JobHandler:
    """Re-score first if the population grew since the last re-score, then search pairs and
    schedule their syntheses (the sweep's steps, in this job instead of a follow-up one)."""

    def run(job: JobRecord) -> dict[str, Any]:
        del job  # the job names no input: it searches the population as it is now
        mark = rescore_due(manager)
        rescored = {} if mark is None else _rescore(manager, mark)
        return {
            **rescored,
            **find_and_schedule(store=store, publisher=publisher, config=config, manager=manager),
        }

    return run


def synthesize_job_handler(store: SQLStore, manager: CNSWorkflowManager, config: CNSConfig) -> JobHandler:
    """Synthesize the stored pair of a ``synthesize`` job (``config`` kept for the task's signature)."""
    del config  # the manager carries the configuration the synthesis uses

    def run(job: JobRecord) -> dict[str, Any] | JobRecord:
        pair_id = str(job.payload["pair_id"])
        pair = rebuild_pair(store, pair_id)

        def completion(result: SynthesisResult) -> JobCompletion:
            # fenced with the claim's token: a delivery that lost its lease stores nothing
            return JobCompletion(
                job.job_id, {"pair_id": pair_id, **result.to_dict()}, lease_token=job.lease_token
            )

        result, done = synthesize_for_job(
            manager, pair, force=bool(job.payload.get("force", False)), completes=completion
        )
        log.info("synthesis.job_done", pair_id=pair_id, accepted=result.accepted, skipped=result.skipped)
        return done if done is not None else {"pair_id": pair_id, **result.to_dict()}

    return run
