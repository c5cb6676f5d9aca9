"""``CorpusIndex``: what a question is searched against — every SNO's hypothesis and every claim.

Two indexes that follow the same change feed: the hypotheses of every stored SNO, whatever its
status or trust (a :class:`~cns.index.reference.ReferenceIndex` with no filter: the question
decides what is relevant, the caller what it shows), and the claims (:class:`~cns.index.claims.ClaimIndex`).
It is separate from the novelty reference set, which holds only trusted active narratives. The
CLI saves both files under ``data_dir/index/`` so a ``cns search`` does not embed every claim
again; workers never open it, the API keeps it in memory.
"""

from __future__ import annotations

from pathlib import Path

from cns.config.settings import CNSConfig
from cns.index.claims import ClaimIndex, SNOFeed
from cns.index.reference import ReferenceIndex
from cns.ports import Embedder

NARRATIVES_FILE = "narratives.faiss"
CLAIMS_FILE = "claims.faiss"


class CorpusIndex:
    """The hypothesis index and the claim index of one store, synced together."""

    def __init__(self, narratives: ReferenceIndex, claims: ClaimIndex) -> None:
        self.narratives = narratives
        self.claims = claims

    @classmethod
    def open(
        cls, store: SNOFeed, embedder: Embedder, config: CNSConfig, *, folder: Path | None = None
    ) -> CorpusIndex:
        """Open (and, with ``folder``, load or rebuild the saved files of) both indexes."""
        model = f"{embedder.name}@{embedder.version}"
        narratives = ReferenceIndex(
            store,
            config.index,
            dimension=config.embedding_dim,
            path=None if folder is None else folder / NARRATIVES_FILE,
            model_name=model,
        )
        claims = ClaimIndex(
            store,
            embedder,
            config.index,
            dimension=config.embedding_dim,
            path=None if folder is None else folder / CLAIMS_FILE,
            model_name=model,
        )
        return cls(narratives, claims)

    @property
    def persisted(self) -> bool:
        return self.narratives.persisted and self.claims.persisted

    def sync(self) -> int:
        """Bring both indexes up to date with the store; return how far the claim index advanced."""
        self.narratives.sync()
        return self.claims.sync()

    def save(self) -> None:
        self.narratives.save()
        self.claims.save()
