"""Fault knobs for service tests: a rule NLI that is slow on purpose (anchors B.6).

Reliability tests must keep the real code path and put the fault into a fake model, never into
an ``if TESTING`` branch. :class:`SlowRuleNLI` answers exactly like
:class:`~cns.testing.fakes.RuleNLI` after sleeping ``CNS_FAKE_NLI_DELAY_SECONDS`` per call
(read at construction; ``0`` = no delay), which keeps a worker busy inside a task long enough to
kill it mid-task.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

from cns.ports import FloatArray
from cns.testing.fakes import RuleNLI

DELAY_ENV = "CNS_FAKE_NLI_DELAY_SECONDS"


class SlowRuleNLI(RuleNLI):
    name = "fake:slow-rule-nli"

    def __init__(self, delay_seconds: float | None = None) -> None:
        super().__init__()
        self.delay_seconds = (
            float(os.environ.get(DELAY_ENV, "0") or 0) if delay_seconds is None else delay_seconds
        )

    def predict(self, pairs: Sequence[tuple[str, str]]) -> FloatArray:
        if self.delay_seconds > 0:
            time.sleep(self.delay_seconds)
        return super().predict(pairs)
