"""The names of background work: job kinds and the task names that carry them.

A task name is part of the message format between the API and the workers (a message is a task
name plus the job id), so the names are stable strings. They live here, free of any broker
library, so the service layer can submit and re-publish jobs without knowing Celery; the worker
registers its tasks under the same names (:mod:`cns.worker.app`).
"""

from __future__ import annotations

#: Job kinds (the ``kind`` column of the job table).
INGEST = "ingest"
SYNTHESIZE = "synthesize"
RESCORE = "rescore"
PAIR_SEARCH = "pair_search"

#: Task names of the job tasks (their only argument is the job id).
PROCESS_INGESTION = "cns.process_ingestion"
SYNTHESIZE_PAIR = "cns.synthesize_pair"
RESCORE_POPULATION = "cns.rescore_population"
SEARCH_PAIRS = "cns.search_pairs"

#: Task names of the tasks that have no job row (beat's periodic tasks, the per-SNO re-score).
EVALUATE_SNO = "cns.evaluate_sno"
FIND_PAIRS = "cns.find_pairs"
RECONCILE_JOBS = "cns.reconcile_jobs"
