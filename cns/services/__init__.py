"""The service layer: the one place the CLI, the API routes and the Celery tasks call into.

It knows jobs (:mod:`cns.services.jobs`, :mod:`cns.services.job_table`), the ``cns run`` job
and the read queries, and nothing of the broker: messages go out through the
:class:`~cns.ports.Publisher` port, whose Celery implementation lives in :mod:`cns.worker`.
"""
