"""The population lifecycle: the one path every edge takes from SNOs to pairs to syntheses.

``cns run``, ``cns pairs``, ``cns synthesize``, ``cns loop``, the Celery tasks, beat and the API
all call these functions (through :class:`~cns.workflow.manager.CNSWorkflowManager` or
:mod:`cns.services.synthesis_jobs`), so the single-machine product and the service behave the
same way:

* :func:`find_and_record_pairs` — search the pairing population (``population.pair_syntheses``
  decides whether syntheses pair again) and record every pair with all the search said;
* :func:`rebuild_pair` — the recorded pair, back as a :class:`~cns.pairs.ChiralPair`;
* :func:`explain` — why two narratives are, or are not, a pair (``cns why``);
* :func:`judge_population` — the same search recording nothing (the near misses of the web pages);
* :func:`synthesize_and_store` — synthesize, give the candidate its status, lineage, source and
  archive reason (:func:`finish_synthesis`, the only place that does), store it, *then* record
  the attempt; :func:`synthesize_for_job` — the same for a ``synthesize`` job, with the job's
  SUCCESS in the same fenced transaction as the candidate and its attempt;
* :func:`admit` — active above ``thresholds.ingest``, archived with the reason otherwise;
* :func:`enforce_size_limit` — at most ``population.size_limit`` active SNOs, the lowest-trust
  archived with the reason (before every pair search);
* :func:`rescore_if_due` / :func:`rescore_population` — re-score when the population has grown;
* :class:`StoreAttemptLog` — one attempt log, one meaning for every outcome (:func:`outcome_of`).

``docs/architecture.md`` draws the whole path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cns.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from cns.synthesis.view import is_synthesis
    from cns.workflow.lifecycle.admission import admit
    from cns.workflow.lifecycle.attempts import (
        PendingAttempts,
        StoreAttemptLog,
        accepted_of,
        attempt_log_for,
        outcome_of,
    )
    from cns.workflow.lifecycle.pairs import (
        explain,
        find_and_record_pairs,
        judge_population,
        pair_record,
        pairing_population,
        population_fingerprint,
        rebuild_pair,
        record_pairs,
    )
    from cns.workflow.lifecycle.population import enforce_size_limit
    from cns.workflow.lifecycle.rescore import (
        RESCORE_MARKER,
        RescoreArchival,
        RescoreReport,
        mark_rescored,
        model_marker,
        population_mark,
        rescore_due,
        rescore_if_due,
        rescore_one,
        rescore_population,
    )
    from cns.workflow.lifecycle.synthesis import (
        SYNTHESIS_SOURCE,
        finish_synthesis,
        synthesize_and_store,
        synthesize_for_job,
    )


__all__ = [
    "RESCORE_MARKER",
    "SYNTHESIS_SOURCE",
    "PendingAttempts",
    "RescoreArchival",
    "RescoreReport",
    "StoreAttemptLog",
    "accepted_of",
    "admit",
    "attempt_log_for",
    "enforce_size_limit",
    "explain",
    "find_and_record_pairs",
    "finish_synthesis",
    "is_synthesis",
    "judge_population",
    "mark_rescored",
    "model_marker",
    "outcome_of",
    "pair_record",
    "pairing_population",
    "population_fingerprint",
    "population_mark",
    "rebuild_pair",
    "record_pairs",
    "rescore_due",
    "rescore_if_due",
    "rescore_one",
    "rescore_population",
    "synthesize_and_store",
    "synthesize_for_job",
]

_EXPORTS = {
    "is_synthesis": "cns.synthesis.view",
    "admit": "cns.workflow.lifecycle.admission",
    "PendingAttempts": "cns.workflow.lifecycle.attempts",
    "StoreAttemptLog": "cns.workflow.lifecycle.attempts",
    "accepted_of": "cns.workflow.lifecycle.attempts",
    "attempt_log_for": "cns.workflow.lifecycle.attempts",
    "outcome_of": "cns.workflow.lifecycle.attempts",
    "explain": "cns.workflow.lifecycle.pairs",
    "find_and_record_pairs": "cns.workflow.lifecycle.pairs",
    "judge_population": "cns.workflow.lifecycle.pairs",
    "pair_record": "cns.workflow.lifecycle.pairs",
    "pairing_population": "cns.workflow.lifecycle.pairs",
    "population_fingerprint": "cns.workflow.lifecycle.pairs",
    "rebuild_pair": "cns.workflow.lifecycle.pairs",
    "record_pairs": "cns.workflow.lifecycle.pairs",
    "enforce_size_limit": "cns.workflow.lifecycle.population",
    "RESCORE_MARKER": "cns.workflow.lifecycle.rescore",
    "RescoreArchival": "cns.workflow.lifecycle.rescore",
    "RescoreReport": "cns.workflow.lifecycle.rescore",
    "mark_rescored": "cns.workflow.lifecycle.rescore",
    "model_marker": "cns.workflow.lifecycle.rescore",
    "population_mark": "cns.workflow.lifecycle.rescore",
    "rescore_due": "cns.workflow.lifecycle.rescore",
    "rescore_if_due": "cns.workflow.lifecycle.rescore",
    "rescore_one": "cns.workflow.lifecycle.rescore",
    "rescore_population": "cns.workflow.lifecycle.rescore",
    "SYNTHESIS_SOURCE": "cns.workflow.lifecycle.synthesis",
    "finish_synthesis": "cns.workflow.lifecycle.synthesis",
    "synthesize_and_store": "cns.workflow.lifecycle.synthesis",
    "synthesize_for_job": "cns.workflow.lifecycle.synthesis",
}

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
