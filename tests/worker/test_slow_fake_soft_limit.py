"""The ``CNS_FAKE_NLI_IGNORE_SOFT_LIMIT`` knob of the slow fake NLI (R21's hard-limit fault).

Celery delivers the soft time limit as a signal whose handler raises ``SoftTimeLimitExceeded``
inside the task; here a ``SIGALRM`` handler does the same inside the fake's sleep.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from types import FrameType

import pytest
from celery.exceptions import SoftTimeLimitExceeded

from cns.testing.slow_fakes import IGNORE_SOFT_LIMIT_ENV, SlowRuleNLI

PAIRS = [("the sky is blue", "the sky is blue")]


@pytest.fixture
def soft_limit_in_100ms() -> Iterator[None]:
    def raise_soft(_signum: int, _frame: FrameType | None) -> None:
        raise SoftTimeLimitExceeded()

    previous = signal.signal(signal.SIGALRM, raise_soft)
    signal.setitimer(signal.ITIMER_REAL, 0.1)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.usefixtures("soft_limit_in_100ms")
def test_by_default_the_soft_limit_interrupts_the_slow_call() -> None:
    nli = SlowRuleNLI(delay_seconds=2.0)
    start = time.monotonic()
    with pytest.raises(SoftTimeLimitExceeded):
        nli.predict(PAIRS)
    assert time.monotonic() - start < 1.0


@pytest.mark.usefixtures("soft_limit_in_100ms")
def test_the_knob_swallows_the_soft_limit_and_sleeps_the_full_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(IGNORE_SOFT_LIMIT_ENV, "1")
    nli = SlowRuleNLI(delay_seconds=0.4)
    start = time.monotonic()
    probs = nli.predict(PAIRS)
    assert time.monotonic() - start >= 0.4
    assert nli.soft_limits_ignored == 1 and probs.shape == (1, 3)
