"""Ports: the interfaces the pure core depends on.

Every model-backed or stateful dependency of CNS is described here as a ``typing.Protocol``.
Implementations live one per module (``cns.models.*``, ``cns.index.*``, ``cns.store.*``) and a
deterministic fake of each ships in :mod:`cns.testing.fakes`, selectable from configuration, so
that tests, CI and offline demos never need a network or a GPU.

Conventions shared by all ports:

* embeddings are ``float32`` arrays, one row per text, **L2-normalised** (the novelty ÷2 and
  the chirality ranges assume unit vectors, docs/design-notes.md#unit-vectors);
* NLI probabilities are ``(n, 3)`` arrays in the fixed column order
  ``(entailment, neutral, contradiction)`` whose rows sum to 1;
* every model port exposes ``name`` and ``version`` so that each critic result can record
  which backend produced it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from cns.core.sno import StructuredNarrativeObject

FloatArray = NDArray[np.float32]

#: Column index of each NLI label in the arrays returned by :meth:`NLIModel.predict`.
ENTAILMENT, NEUTRAL, CONTRADICTION = 0, 1, 2
NLI_LABELS: tuple[str, str, str] = ("entailment", "neutral", "contradiction")


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-length dense vectors."""

    @property
    def name(self) -> str:
        """Model identifier (Hugging Face id, path or ``fake:...``)."""
        ...

    @property
    def version(self) -> str:
        """A string that changes whenever the vectors for the same text could change."""
        ...

    @property
    def dimension(self) -> int:
        """Length of each returned vector."""
        ...

    def encode(self, texts: Sequence[str]) -> FloatArray:
        """Return an ``(len(texts), dimension)`` float32 array of L2-normalised rows."""
        ...


@runtime_checkable
class NLIModel(Protocol):
    """Natural-language inference: how a premise bears on a hypothesis."""

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...

    def predict(self, pairs: Sequence[tuple[str, str]]) -> FloatArray:
        """Return ``(n, 3)`` probabilities (entailment, neutral, contradiction) for (premise, hypothesis)."""
        ...


@runtime_checkable
class LLMClient(Protocol):
    """A chat-completion model used for extraction, synthesis and (optionally) NLI."""

    @property
    def name(self) -> str: ...

    def complete(
        self,
        messages: Sequence[dict[str, str]],
        *,
        temperature: float = 0.2,
        max_tokens: int = 2048,
        json_schema: dict[str, Any] | None = None,
    ) -> str:
        """Return the assistant's text for the conversation ``messages``."""
        ...


@runtime_checkable
class VectorIndex(Protocol):
    """Nearest-neighbour search over unit vectors keyed by stable string ids."""

    @property
    def dimension(self) -> int: ...

    def __len__(self) -> int: ...

    def add(self, ids: Sequence[str], vectors: FloatArray) -> None:
        """Insert or replace the vectors for ``ids`` (re-adding an id replaces it: idempotent)."""
        ...

    def remove(self, ids: Iterable[str]) -> int:
        """Remove ``ids`` that are present; return how many were removed."""
        ...

    def search(self, queries: FloatArray, k: int) -> list[list[tuple[str, float]]]:
        """For each query row return up to ``k`` ``(id, inner_product)`` pairs, best first."""
        ...

    def ids(self) -> list[str]: ...


@runtime_checkable
class SNOStore(Protocol):
    """Persistence of SNOs. The reference implementation is in-memory; SQL lives in ``cns.store``."""

    def put(self, sno: StructuredNarrativeObject) -> None:
        """Insert or replace by ``sno_id``."""
        ...

    def get(self, sno_id: str) -> StructuredNarrativeObject:
        """Return the SNO or raise :class:`cns.errors.SNONotFoundError`."""
        ...

    def delete(self, sno_id: str) -> bool: ...

    def list(
        self, *, status: str | None = None, min_trust: float | None = None
    ) -> list[StructuredNarrativeObject]: ...

    def __len__(self) -> int: ...


class Publisher(Protocol):
    """What the service layer needs from a broker: send a task by name with job-id arguments.

    The service layer names tasks by their stable string (:mod:`cns.services.job_kinds`) and
    never imports the broker library; the Celery implementation is
    :class:`cns.worker.publisher.CeleryPublisher`.
    """

    def publish(self, task_name: str, *args: str, task_id: str | None = None) -> None:
        """Send ``task_name(*args)``; raise :class:`~cns.errors.BrokerUnavailable` past the deadline."""
        ...

    def queue_depth(self) -> int | None:
        """Messages waiting in the task queue, or ``None`` when unknown (broker down)."""
        ...

    def ping(self) -> None:
        """Raise :class:`~cns.errors.BrokerUnavailable` unless the broker answers."""
        ...

    def canary(self, timeout: float) -> None:
        """Raise unless a worker runs the canary task within ``timeout`` seconds."""
        ...
