"""What the pages keep between requests: the models of this process (if any) and the last judgement.

The near misses of the pairs page need the pair search itself — every pair it judged and the rule
that stopped it — which the store does not keep. Where the models run in this process (``cns ui``)
the search runs (:func:`~cns.workflow.lifecycle.judge_population`, recording nothing) in a
background thread once per change of the population, and the page shows its result when it is
ready: with real models the search over a few dozen documents takes a minute, and a page must not
hang that long, nor behind a job that holds the models. The API process of the service loads no
models, so there the page says where the near misses can be seen instead.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from cns.core.sno import StructuredNarrativeObject
from cns.logging_setup import get_logger
from cns.pairs import PairSearchResult
from cns.store.sql import SQLStore
from cns.workflow.lifecycle import judge_population
from cns.workflow.manager import CNSWorkflowManager

log = get_logger(__name__)


class NotReady(Exception):
    """The judgement of the current population is still being computed; the page says so."""


@dataclass
class WebState:
    """``manager``: the models of this process, or None; ``model_lock``: held while they are used."""

    manager: CNSWorkflowManager | None = None
    model_lock: threading.Lock = field(default_factory=threading.Lock)
    local_jobs: bool = False
    _judged: tuple[int, list[StructuredNarrativeObject], PairSearchResult] | None = None
    _running: threading.Thread | None = None
    _guard: threading.Lock = field(default_factory=threading.Lock)
    _ready: threading.Event = field(default_factory=threading.Event)

    def judged(self, store: SQLStore) -> tuple[list[StructuredNarrativeObject], PairSearchResult] | None:
        """The pairing population and every pair the search judged, or None without models here.

        Raises :class:`NotReady` (and starts the search, unless it is running) when the population
        changed since the last judgement.
        """
        if self.manager is None:
            return None
        seq = store.current_seq()
        with self._guard:
            if self._judged is not None and self._judged[0] == seq:
                return self._judged[1], self._judged[2]
            if self._running is None or not self._running.is_alive():
                self._ready.clear()
                self._running = threading.Thread(target=self._judge, args=(seq,), daemon=True)
                self._running.start()
        raise NotReady("The pair search is judging the population for the near misses; this page reloads")

    def wait_judged(self, timeout: float) -> bool:
        """Block until the running judgement is done (tests, scripts); False on timeout."""
        return self._ready.wait(timeout)

    def _judge(self, seq: int) -> None:
        assert self.manager is not None
        try:
            with self.model_lock:  # after any running job: the models are not shared between threads
                population, search = judge_population(self.manager)
            with self._guard:
                self._judged = (seq, population, search)
        except Exception:  # the page shows "not ready" again and the next visit retries
            log.exception("web.judge_failed")
        finally:
            self._ready.set()
