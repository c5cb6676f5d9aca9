"""The Celery side of CNS: the app and its tasks (:mod:`cns.worker.app`), the per-process runtime,
the publisher behind :class:`cns.ports.Publisher`, the worker probe and the broker safety check.

Nothing below :mod:`cns.worker` imports it: the service layer submits jobs through the
``Publisher`` port and names tasks by the strings of :mod:`cns.services.job_kinds`.
"""
