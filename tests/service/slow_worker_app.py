"""``celery -A tests.service.slow_worker_app worker``: the real worker with a slow fake NLI.

Until the model factory knows a ``fake-slow`` NLI backend, the worker runtime's NLI loader is
swapped here (test code), so the product code path stays untouched.
"""

from __future__ import annotations

from typing import Any

import cns.worker.runtime as runtime
from cns.testing.slow_fakes import SlowRuleNLI


def _slow_nli(*_: Any, **__: Any) -> SlowRuleNLI:
    return SlowRuleNLI()


runtime.load_nli = _slow_nli  # type: ignore[attr-defined]

from cns.tasks import app  # noqa: E402

__all__ = ["app"]
