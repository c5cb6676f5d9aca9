"""``celery -A tests.service.no_reject_worker_app worker``: the slow worker, reject_on_worker_lost OFF.

R12's negative control: with ``task_reject_on_worker_lost=False`` a child killed mid-task makes
Celery *ack* the message, so the job is never redelivered. It shows why the product turns the
flag on — and that the job row still ends FAILED with ``WorkerLostError`` instead of STARTED
forever. Only this test app changes the flag; the product's app (``cns.tasks``) is untouched.
"""

from __future__ import annotations

from tests.service.slow_worker_app import app

# tasks are bound to the app (and read task_* settings) when the worker finalizes it, after this
app.conf.task_reject_on_worker_lost = False

__all__ = ["app"]
