"""``ClaimIndex``: a faiss index of the claims of the store's SNOs, kept in step with the change feed.

Searching the corpus for a question looks at claims as well as hypotheses: a document's central
hypothesis may be about something else while one of its claims answers the question exactly.
The store keeps only the hypothesis vector of an SNO (claims would multiply every stored SNO by
their number of vectors), so claim vectors are computed here, by the embedder, when an SNO
arrives in the change feed — through the embedding cache when one is configured, where
ingestion has usually put the same sentences already — and kept in their own index.

It follows the same numbered change feed as :class:`~cns.index.reference.ReferenceIndex`:
:meth:`sync` reads what changed since the last sync, removes the claims of deleted SNOs, and
(re-)embeds the claims of SNOs that are new or whose content changed; a re-scored SNO (trust or
status changed, same claims) costs no embedding. An id is ``"<sno_id>::<claim_id>"``; the root
claim (the hypothesis) is left to the hypothesis index. With a ``path`` the index is loaded at
open (rebuilt when missing, corrupt or built by another model) and :meth:`save` writes it back.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from cns.config.settings import IndexConfig
from cns.core.graph import ROOT_ID
from cns.core.records import ChangePage, SNOChange
from cns.core.sno import StructuredNarrativeObject
from cns.errors import SNONotFoundError, VectorIndexError
from cns.index.faiss_index import FaissVectorIndex
from cns.index.persistence import SYNC_PAGE, save_index
from cns.index.reference import new_faiss_index, open_saved_index
from cns.logging_setup import get_logger
from cns.ports import Embedder, FloatArray

log = get_logger(__name__)

SEPARATOR = "::"
#: what a saved claim index holds (checked on load like the reference index's selection)
SELECTION = "claims of every SNO"


class SNOFeed(Protocol):
    """What the claim index reads from a store: the change feed, and an SNO by id."""

    def changes_since(self, seq: int, *, limit: int | None = None) -> ChangePage: ...

    def get(self, sno_id: str) -> StructuredNarrativeObject: ...


@dataclass(frozen=True)
class ClaimKey:
    """Which claim of which SNO an index id stands for."""

    sno_id: str
    claim_id: str

    @property
    def index_id(self) -> str:
        return f"{self.sno_id}{SEPARATOR}{self.claim_id}"

    @classmethod
    def parse(cls, index_id: str) -> ClaimKey:
        sno_id, _, claim_id = index_id.partition(SEPARATOR)
        return cls(sno_id, claim_id)


def claim_texts(sno: StructuredNarrativeObject) -> list[tuple[ClaimKey, str]]:
    """The claims of ``sno`` to index (every claim but the root, which is the hypothesis)."""
    return [(ClaimKey(sno.sno_id, c.claim_id), c.content) for c in sno.claims() if c.claim_id != ROOT_ID]


class ClaimIndex:
    """Claim vectors of every SNO in ``store``, following its change feed (thread-safe)."""

    def __init__(
        self,
        store: SNOFeed,
        embedder: Embedder,
        settings: IndexConfig,
        *,
        dimension: int,
        path: Path | None = None,
        model_name: str | None = None,
    ) -> None:
        if path is not None and not model_name:
            raise VectorIndexError("a saved claim index needs the embedder's model name", path=str(path))
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.path = path
        self.model_name = model_name
        self.synced_seq = 0
        #: claims embedded so far by this object (a re-scored SNO adds none)
        self.embedded = 0
        self._lock = threading.Lock()
        self._claims: dict[str, list[str]] = {}  # sno_id -> index ids
        self._hashes: dict[str, str] = {}  # sno_id -> content hash of the indexed version
        self.index = new_faiss_index(dimension, settings) if path is None else self._open(dimension, path)

    @property
    def persisted(self) -> bool:
        return self.path is not None

    def __len__(self) -> int:
        return len(self.index)

    def sync(self) -> int:
        """Apply the store's changes since the last sync; return how far the seq advanced."""
        with self._lock:
            before = self.synced_seq
            self.synced_seq = self._sync_from(before, self.index)
            return self.synced_seq - before

    def search(self, query: FloatArray, k: int) -> list[tuple[ClaimKey, float]]:
        """The ``k`` claims nearest to one query vector, best first."""
        [hits] = self.index.search(np.atleast_2d(query), k)
        return [(ClaimKey.parse(index_id), score) for index_id, score in hits]

    def save(self) -> None:
        if self.path is None or self.model_name is None:
            raise VectorIndexError("this claim index is kept in memory only; it has no file to save to")
        with self._lock:
            save_index(
                self.index,
                self.path,
                synced_seq=self.synced_seq,
                model_name=self.model_name,
                selection=SELECTION,
            )

    # ------------------------------------------------------------------ internals
    def _sync_from(self, seq: int, index: FaissVectorIndex) -> int:
        while True:
            page = self.store.changes_since(seq, limit=SYNC_PAGE)
            if page.changes:
                self._apply(page.changes, index)
            seq = max(seq, page.through)
            if page.complete:
                return seq

    def _apply(self, changes: Iterable[SNOChange], index: FaissVectorIndex) -> None:
        drop: list[str] = []
        fresh: list[tuple[ClaimKey, str]] = []
        for change in changes:
            sno = None if change.deleted else self._read(change.sno_id)
            digest = None if sno is None else sno.content_hash()
            if digest is not None and self._hashes.get(change.sno_id) == digest:
                continue  # trust or status changed, the claims did not
            drop += self._claims.pop(change.sno_id, [])
            self._hashes.pop(change.sno_id, None)
            if sno is None or digest is None:
                continue
            texts = claim_texts(sno)
            self._claims[sno.sno_id] = [key.index_id for key, _ in texts]
            self._hashes[sno.sno_id] = digest
            fresh += texts
        if drop:
            index.remove(drop)
        if fresh:
            vectors = self.embedder.encode([text for _, text in fresh])
            index.add([key.index_id for key, _ in fresh], np.asarray(vectors, dtype=np.float32))
            self.embedded += len(fresh)

    def _read(self, sno_id: str) -> StructuredNarrativeObject | None:
        try:
            return self.store.get(sno_id)
        except SNONotFoundError:  # deleted since the change was numbered; its tombstone follows
            return None

    def _open(self, dimension: int, path: Path) -> FaissVectorIndex:
        assert self.model_name is not None
        index, self.synced_seq, loaded = open_saved_index(
            path, dimension=dimension, settings=self.settings, model_name=self.model_name,
            selection=SELECTION, rebuild=lambda empty: self._sync_from(0, empty),
        )  # fmt: skip
        if not loaded:
            return index  # _sync_from already recorded the claims it added
        for index_id in index.ids():
            self._claims.setdefault(ClaimKey.parse(index_id).sno_id, []).append(index_id)
        return index
