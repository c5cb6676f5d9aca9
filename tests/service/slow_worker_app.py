"""``celery -A tests.service.slow_worker_app worker``: the real worker with the slow fake NLI.

The NLI backend is chosen from configuration before the app and its runtime are built: the model
factory's ``fake-slow`` backend (:class:`~cns.testing.slow_fakes.SlowRuleNLI`, which reads its
delay and markers from ``CNS_FAKE_NLI_*``), so the product code path stays untouched.
"""

from __future__ import annotations

import os

os.environ["CNS_MODELS__NLI_BACKEND"] = "fake-slow"

from cns.tasks import app

__all__ = ["app"]
