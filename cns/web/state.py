"""What the pages keep between requests: the models of this process (if any) and the last judgement.

The near misses of the pairs page need the pair search itself — every pair it judged and the rule
that stopped it — which the store does not keep. Where the models run in this process (``cns ui``)
the page runs the search once per population change (:func:`~cns.workflow.lifecycle.judge_population`,
recording nothing) and keeps the result until the store's change counter moves. The API process
of the service loads no models, so there the page says where the near misses can be seen instead.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from cns.core.sno import StructuredNarrativeObject
from cns.pairs import PairSearchResult
from cns.store.sql import SQLStore
from cns.workflow.lifecycle import judge_population
from cns.workflow.manager import CNSWorkflowManager

#: how long a page waits for a running job to free the models
BUSY_WAIT_SECONDS = 3.0


class ModelsBusy(Exception):
    """The models of this process are running a job; the page says so instead of waiting."""


@dataclass
class WebState:
    """``manager``: the models of this process, or None; ``model_lock``: held while they are used."""

    manager: CNSWorkflowManager | None = None
    model_lock: threading.Lock = field(default_factory=threading.Lock)
    local_jobs: bool = False
    _judged: tuple[int, list[StructuredNarrativeObject], PairSearchResult] | None = None

    def judged(self, store: SQLStore) -> tuple[list[StructuredNarrativeObject], PairSearchResult] | None:
        """The pairing population and every pair the search judged, or None without models here.

        Raises :class:`ModelsBusy` when a job holds the models longer than ``BUSY_WAIT_SECONDS``:
        a page must not hang behind the ingestion of a long document.
        """
        if self.manager is None:
            return None
        seq = store.current_seq()
        if not self.model_lock.acquire(timeout=BUSY_WAIT_SECONDS):
            raise ModelsBusy("the models are busy with a job; the near misses show once it is done")
        try:
            if self._judged is None or self._judged[0] != seq:
                population, search = judge_population(self.manager)
                self._judged = (seq, population, search)
            return self._judged[1], self._judged[2]
        finally:
            self.model_lock.release()
