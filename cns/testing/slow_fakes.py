"""Fault knobs for service tests: a rule NLI that is slow, or deadly, on purpose (docs/reliability.md).

Reliability tests must keep the real code path and put the fault into a fake model, never into
an ``if TESTING`` branch. :class:`SlowRuleNLI` answers exactly like
:class:`~cns.testing.fakes.RuleNLI` after sleeping ``CNS_FAKE_NLI_DELAY_SECONDS`` per call
(read at construction; ``0`` = no delay), which keeps a worker busy inside a task long enough to
kill it mid-task. With ``CNS_FAKE_NLI_SLOW_MARKER`` set, only calls whose texts contain that
marker are slow, so one document can overrun a time limit while the next one runs at full speed.

``CNS_FAKE_NLI_CRASH_MARKER`` makes it a *poison* model: when any premise or hypothesis contains
that marker, the process SIGKILLs itself (what an OOM kill or a segfaulting native library does
to a prefork child). Only documents carrying the marker crash, so a test can show that one
poison document is failed after ``celery.max_deliveries`` deliveries while the worker keeps
serving every other job.

``CNS_FAKE_NLI_IGNORE_SOFT_LIMIT=1`` makes the slow call *swallow* Celery's
``SoftTimeLimitExceeded`` and keep sleeping for the rest of its delay — what a native call or a
careless ``except Exception`` does — so only the hard time limit (a kill of the child) stops it.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Sequence

from celery.exceptions import SoftTimeLimitExceeded

from cns.ports import FloatArray
from cns.testing.fakes import RuleNLI

DELAY_ENV = "CNS_FAKE_NLI_DELAY_SECONDS"
CRASH_ENV = "CNS_FAKE_NLI_CRASH_MARKER"
SLOW_MARKER_ENV = "CNS_FAKE_NLI_SLOW_MARKER"
IGNORE_SOFT_LIMIT_ENV = "CNS_FAKE_NLI_IGNORE_SOFT_LIMIT"


class SlowRuleNLI(RuleNLI):
    name = "fake:slow-rule-nli"

    def __init__(self, delay_seconds: float | None = None, crash_marker: str | None = None) -> None:
        super().__init__()
        self.delay_seconds = (
            float(os.environ.get(DELAY_ENV, "0") or 0) if delay_seconds is None else delay_seconds
        )
        self.crash_marker = (os.environ.get(CRASH_ENV) or None) if crash_marker is None else crash_marker
        self.slow_marker = os.environ.get(SLOW_MARKER_ENV) or None
        self.ignore_soft_limit = os.environ.get(IGNORE_SOFT_LIMIT_ENV, "") in ("1", "true", "yes")
        self.soft_limits_ignored = 0

    def predict(self, pairs: Sequence[tuple[str, str]]) -> FloatArray:
        if self.crash_marker and _mentions(pairs, self.crash_marker):
            os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, no exception: like the OOM killer
        if self.delay_seconds > 0 and (self.slow_marker is None or _mentions(pairs, self.slow_marker)):
            self._sleep(self.delay_seconds)
        return super().predict(pairs)

    def _sleep(self, seconds: float) -> None:
        """Sleep ``seconds``; with ``ignore_soft_limit`` the soft time limit does not cut it short."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                time.sleep(left)
            except SoftTimeLimitExceeded:
                if not self.ignore_soft_limit:
                    raise
                self.soft_limits_ignored += 1


def _mentions(pairs: Sequence[tuple[str, str]], marker: str) -> bool:
    return any(marker in premise or marker in hypothesis for premise, hypothesis in pairs)
