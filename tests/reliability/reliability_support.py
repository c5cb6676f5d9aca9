"""Shared helpers of the reliability tests: the results table rows and the conservation oracle.

Every reliability test ends with :func:`record`, which upserts one row (keyed by the test id)
into ``build/reliability/results.json``; ``scripts/reliability_table.py`` renders those rows
into ``docs/reliability.md``. ``lost`` and ``duplicated`` are always *computed from the
database* by :func:`conservation` (anchors B.6, "conservation invariant"), never written by hand.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cns.store.sql import JobState, SQLStore

REPO = Path(__file__).resolve().parents[2]
RESULTS_ENV = "CNS_RELIABILITY_RESULTS"


def results_path() -> Path:
    return Path(os.environ.get(RESULTS_ENV) or REPO / "build" / "reliability" / "results.json")


@dataclass(frozen=True)
class Conservation:
    """What the database says about the accepted jobs after a fault."""

    lost: int
    duplicated: int
    jobs: int
    snos: int


def conservation(
    store: SQLStore,
    accepted: Iterable[str] = (),
    published: Iterable[str] = (),
    *,
    submissions_share_documents: bool = False,
) -> Conservation:
    """Count lost and duplicated work in ``store``.

    * lost: an accepted job id without a job row, or a job still PENDING whose message was not
      ``published`` and that is not overdue either (so neither the queue nor the reconciler would
      ever run it);
    * duplicated: extra ingest job rows for one document, plus extra SNOs for one document.
      Where the test submits one text several times as separate requests on purpose
      (``submissions_share_documents``), each has its own job row and only extra SNOs count.
    """
    jobs = store.list_jobs()
    by_id = {j.job_id: j for j in jobs}
    overdue = {j.job_id for j in store.overdue_jobs()}
    sent = set(published)
    lost = 0
    for job_id in set(accepted):
        job = by_id.get(job_id)
        unreachable = job is not None and job.state is JobState.PENDING and not ({job_id} & (overdue | sent))
        if job is None or unreachable:
            lost += 1
    per_document = Counter(str(j.payload.get("document_id")) for j in jobs if j.kind == "ingest")
    snos = store.list()
    sno_docs = Counter(str(s.metadata.get("document_id")) for s in snos if s.metadata.get("document_id"))
    extra_jobs = 0 if submissions_share_documents else sum(n - 1 for n in per_document.values())
    duplicated = extra_jobs + sum(n - 1 for n in sno_docs.values())
    return Conservation(lost=lost, duplicated=duplicated, jobs=len(jobs), snos=len(snos))


def record(test_id: str, fault: str, behaviour: str, *, lost: int, duplicated: int) -> None:
    """Upsert the table row of ``test_id`` (re-running a test replaces its row)."""
    path = results_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    # several pytest processes (xdist, two checkouts) may record at once: lock, then replace atomically
    with path.with_suffix(".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        rows: dict[str, dict[str, object]] = {}
        if path.exists():
            try:
                rows = json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                rows = {}
        rows[test_id] = {
            "id": test_id,
            "fault": fault,
            "behaviour": behaviour,
            "lost": int(lost),
            "duplicated": int(duplicated),
            "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(rows, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
