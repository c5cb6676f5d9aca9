"""``GET /tasks/{id}`` (alias ``/jobs/{id}``): job state from the database, 404 for unknown ids.

Celery's result backend reports any unknown or expired id as PENDING forever; the job table does
not forget, so a finished job stays SUCCESS/FAILURE and a made-up id is a clear 404. A unique
prefix of the id is enough (an ambiguous one is a 409 listing the candidates), as for SNOs and pairs.
"""

from __future__ import annotations

from fastapi import APIRouter, Path

from cns.api.deps import ReadAccess, ServicesDep
from cns.api.errors import ApiError
from cns.api.responses import READ, error_responses
from cns.api.schemas import TaskStatus
from cns.api.stored import can_exist
from cns.services.jobs import job_view
from cns.services.lookup import resolve

router = APIRouter(tags=["tasks"], responses=error_responses(*READ, 404, 409))

JobId = Path(max_length=64, description="the task_id / job_id returned by a submit")


def _status(services: ServicesDep, task_id: str) -> TaskStatus:
    if not can_exist(task_id):
        raise ApiError(404, f"no task with id {task_id!r}")
    # the whole id is what clients poll with: one read; a prefix (a person typing) costs a lookup more
    job = services.store.get_job(task_id) or services.store.get_job(
        resolve(services.store, "job", task_id).id
    )
    if job is None:  # deleted between the lookup and the read
        raise ApiError(404, f"no task with id {task_id!r}")
    return TaskStatus(**job_view(job))


@router.get("/tasks/{task_id}", response_model=TaskStatus)
def get_task(services: ServicesDep, _: ReadAccess, task_id: str = JobId) -> TaskStatus:
    """State of a task: PENDING, STARTED, SUCCESS (with ``sno_id``) or FAILURE (with ``error``)."""
    return _status(services, task_id)


@router.get("/jobs/{task_id}", response_model=TaskStatus, include_in_schema=False)
def get_job(services: ServicesDep, _: ReadAccess, task_id: str = JobId) -> TaskStatus:
    return _status(services, task_id)
