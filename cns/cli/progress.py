"""Progress of the CLI's long steps: a Rich bar per step with its rate and ETA, or one line per step.

:class:`ProgressDisplay` is a :class:`~cns.core.progress.ProgressCallback`: the workflow tells it
``(step, done, total)`` and it shows the step.

* stderr is a terminal: one live bar per step — units done of the total, units per second,
  elapsed time and the ETA (the step's mean time per unit times the units left).
* stderr is a file or a pipe (``2> log``, CI): no drawing; one line when a step ends, with its
  count and time, so a log stays readable.
* ``--log-format json``: no drawing; a ``progress.step_done`` JSON line when a step ends.
* ``--quiet``: nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from cns.cli.output import Output, out
from cns.core.progress import (
    INGEST,
    PAIR_CONFLICTS,
    PAIR_EVIDENCE,
    PAIR_FACTS,
    PAIR_TOPIC,
    RESCORE,
    SYNTHESIS,
    eta_seconds,
)
from cns.logging_setup import get_logger

log = get_logger(__name__)

#: what one unit of each step is (plural, singular), for the rate column and the finish line
UNITS = {
    INGEST: ("docs", "doc"),
    RESCORE: ("narratives", "narrative"),
    PAIR_FACTS: ("model calls", "model call"),
    PAIR_EVIDENCE: ("candidates", "candidate"),
    PAIR_TOPIC: ("candidates", "candidate"),
    PAIR_CONFLICTS: ("pairs", "pair"),
    SYNTHESIS: ("pairs", "pair"),
}


def unit_of(step: str, count: int = 2) -> str:
    plural, singular = UNITS.get(step, ("items", "item"))
    return singular if count == 1 else plural


def clock_text(seconds: float | None) -> str:
    """``h:mm:ss``, or ``-:--:--`` while unknown."""
    if seconds is None:
        return "-:--:--"
    whole = round(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def task_eta(task: Task) -> float | None:
    """The ETA of a bar: the step's mean seconds per unit so far, times the units left."""
    total = None if task.total is None else int(task.total)
    return eta_seconds(task.elapsed or 0.0, int(task.completed), total)


class EtaColumn(ProgressColumn):
    """``ETA h:mm:ss`` from the whole step's pace (Rich's own column uses the last 30 s only)."""

    def render(self, task: Task) -> Text:
        return Text(f"ETA {clock_text(task_eta(task))}", style="progress.remaining")


class RateColumn(ProgressColumn):
    """Units per second over the step so far (``0.19 docs/s``)."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        unit = task.fields.get("unit", "items")
        if elapsed <= 0 or task.completed <= 0:
            return Text(f"– {unit}/s")
        return Text(f"{task.completed / elapsed:.2f} {unit}/s")


class ProgressDisplay:
    """Shows every step it is told about (see the module docstring for where and how)."""

    def __init__(
        self,
        output: Output | None = None,
        *,
        get_time: Callable[[], float] | None = None,
        console: Console | None = None,
    ) -> None:
        self.output = output or out()
        console = console or self.output.console
        self.live = not self.output.json and not self.output.quiet and console.is_terminal
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            RateColumn(),
            TimeElapsedColumn(),
            EtaColumn(),
            console=console,
            disable=not self.live,
            get_time=get_time,
        )
        self.tasks: dict[str, TaskID] = {}
        self.finished: set[str] = set()

    def __enter__(self) -> ProgressDisplay:
        self.progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.progress.stop()

    def __call__(self, step: str, done: int, total: int | None) -> None:
        task = self.tasks.get(step)
        if task is not None and done == 0 and step in self.finished:
            # the step runs again (``cns loop`` searches for pairs every few seconds): a fresh bar
            self.progress.remove_task(task)
            self.finished.discard(step)
            task = None
        if task is None:
            task = self.progress.add_task(step, total=total, unit=unit_of(step))
            self.tasks[step] = task
        self.progress.update(task, total=total, completed=done)
        if total is not None and done >= total and step not in self.finished:
            self.finished.add(step)
            self.progress.stop_task(task)  # its clock stops: rate and time stay those of the step
            self._done(step, self.progress.tasks[self._index(task)])

    def eta(self, step: str) -> float | None:
        """Seconds left in ``step`` at its pace so far (None before its first unit)."""
        task = self.tasks.get(step)
        return None if task is None else task_eta(self.progress.tasks[self._index(task)])

    def _index(self, task: TaskID) -> int:
        return [t.id for t in self.progress.tasks].index(task)

    def _done(self, step: str, task: Task) -> None:
        """A finished step where nothing is drawn: one line (or JSON record) with its count and time."""
        seconds = round(task.elapsed or 0.0, 3)
        done = int(task.completed)
        if self.live or done == 0:
            return
        self.output.detail(
            f"  {step}: {done} {unit_of(step, done)} in {clock_text(seconds)}",
            event="progress.step_done",
            step=step,
            done=done,
            seconds=seconds,
        )
