"""The relations between the worker's timing settings that keep a job from being lost or run twice.

Each setting is harmless alone; some combinations are not. A hard time limit longer than the
broker's visibility timeout lets Redis hand a running task to a second worker; a job deadline
shorter than the hard limit lets the reconciler do the same; a lease renewed less often than
twice per lease is lost by one slow renewal; a lease longer than the visibility timeout makes
Redis give a dead worker's message back while the job still looks held. These are checked whenever a configuration is
built, so the API, a worker and beat all refuse such a configuration at start-up, with an error
naming the keys, instead of misbehaving under load.

Pure: :func:`timing_problems` reads the ``celery`` section and returns what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class CeleryTiming(Protocol):
    """The timing fields of the ``celery`` section (:class:`cns.config.settings.CeleryConfig`)."""

    visibility_timeout_seconds: int
    task_soft_time_limit_seconds: int
    task_time_limit_seconds: int
    job_deadline_seconds: float
    lease_seconds: float
    lease_renew_seconds: float


@dataclass(frozen=True)
class TimingProblem:
    """An unsafe pair of settings: their keys (``celery.…``) and why the pair is unsafe."""

    keys: tuple[str, str]
    message: str


def _below(
    c: CeleryTiming, low: str, high: str, why: str, *, factor: float = 1.0, high_first: bool = False
) -> TimingProblem | None:
    """A problem unless ``low`` × ``factor`` stays below ``high`` (said from ``high``'s side when
    ``high_first``: the setting an operator most likely mis-set is named first)."""
    low_value, high_value = getattr(c, low), getattr(c, high)
    if low_value * factor < high_value:
        return None
    times = "" if factor == 1.0 else f"{factor:g} × "
    got = f"(got {low}={low_value:g}, {high}={high_value:g})"
    if high_first:
        got = f"(got {high}={high_value:g}, {low}={low_value:g})"
        rule = f"celery.{high} must be longer than {times}celery.{low}"
        keys = (f"celery.{high}", f"celery.{low}")
    else:
        rule = f"{times}celery.{low} must be below celery.{high}"
        keys = (f"celery.{low}", f"celery.{high}")
    return TimingProblem(keys, f"{rule} {got}: {why}")


def timing_problems(c: CeleryTiming) -> list[TimingProblem]:
    """Every unsafe relation in ``c``, in the order an operator would fix them."""
    checks = [
        _below(c, "task_soft_time_limit_seconds", "task_time_limit_seconds",
               "the soft limit must come first, so the task can stop and record its failure before it is killed"),
        _below(c, "task_time_limit_seconds", "visibility_timeout_seconds",
               "otherwise Redis redelivers tasks that are still running, to a second worker"),
        _below(c, "task_time_limit_seconds", "job_deadline_seconds", high_first=True,
               why="the reconciler re-publishes a job silent for the job deadline, so a shorter deadline hands "
               "a job that may still be running to a second worker"),
        _below(c, "lease_seconds", "visibility_timeout_seconds",
               "a dead worker's message that Redis gives back before its lease ran out is refused (the job "
               "still looks held) and the job then waits for the reconciler"),
        _below(c, "lease_renew_seconds", "lease_seconds", factor=2.0, high_first=True,
               why="a lease must outlive one late renewal (a slow database answer); renew at least twice per lease"),
    ]  # fmt: skip
    return [problem for problem in checks if problem is not None]
