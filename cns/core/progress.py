"""How a long step tells whoever is watching how far it has got (no I/O here).

Ingest, re-score, pair search and synthesis can take minutes. The code that does the work calls a
:class:`ProgressCallback` — ``progress(step, done, total)`` — and knows nothing about what shows
it: the CLI draws a bar with an ETA, a JSON log records the step, a worker passes nothing. A step
starts with ``done = 0``; ``total`` is ``None`` while it is not known yet; the step is finished
when ``done == total``. A step that stops early (pair scoring can, once no better pair is
possible) reports its last count as the total, so every started step also finishes.

Step names are fixed strings (:data:`STEPS`): the CLI labels its bars with them and log searches
can rely on them.
"""

from __future__ import annotations

from typing import Protocol

INGEST = "ingest"
RESCORE = "re-score"
PAIR_FACTS = "pairs: shared facts"
PAIR_EVIDENCE = "pairs: shared-evidence candidates"
PAIR_TOPIC = "pairs: topic-neighbour candidates"
PAIR_CONFLICTS = "pairs: conflict points"
SYNTHESIS = "synthesis"
#: Every step name, in the order a run goes through them.
STEPS = (INGEST, RESCORE, PAIR_FACTS, PAIR_EVIDENCE, PAIR_TOPIC, PAIR_CONFLICTS, SYNTHESIS)


class ProgressCallback(Protocol):
    """``progress(step, done, total)``: ``done`` of ``total`` units of ``step`` are finished."""

    def __call__(self, step: str, done: int, total: int | None) -> None: ...


def no_progress(step: str, done: int, total: int | None) -> None:
    """The callback used when nobody watches."""


def eta_seconds(elapsed: float, done: int, total: int | None) -> float | None:
    """Seconds left if the rest goes as fast as the part done so far; None before the first unit.

    The mean over the whole step, not a recent window: the units here (a document, a pair) take
    seconds each and vary, so a few recent ones say little about the rest.
    """
    if total is None or done <= 0 or elapsed < 0:
        return None
    if done >= total:
        return 0.0
    return elapsed / done * (total - done)
