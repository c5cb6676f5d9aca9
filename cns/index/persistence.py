"""Keeping a faiss index on disk and in step with the store.

* **Atomic saves.** The faiss file and its JSON sidecar (id map, ``synced_seq``, dimension, kind,
  model name, SHA-256 of the faiss file) are each written to a temporary file in the same folder,
  fsynced and ``os.replace``d, so a crash never leaves a half-written file under the real name.
  The faiss file is replaced first; if a crash falls between the two replaces, the sidecar's
  checksum no longer matches and the next load rebuilds instead of trusting a mismatched pair.
* **Incremental sync.** Every store write gets a monotonic ``seq`` and deletions leave
  tombstones; :func:`sync_from_store` applies everything after ``synced_seq``. Because sync is
  idempotent (add replaces, remove ignores absent ids), an index saved with an older
  ``synced_seq`` than its contents is harmless: the replay converges to the same state. Long-
  running processes sync before every search, so a sync that finds nothing new costs one
  primary-key read of the store's change counter (:meth:`ChangeFeed.changes_since`).
* **Self-healing load.** A missing, corrupt or mismatched (dimension, kind, model) index is
  rebuilt from the store with a warning — the store is the source of truth, the index a cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from cns.core.records import SNOChange
from cns.errors import VectorIndexError
from cns.index.faiss_index import FaissVectorIndex, IndexKind, parse_kind
from cns.logging_setup import get_logger
from cns.ports import ChangeFeed, VectorIndex

log = get_logger(__name__)

FORMAT_VERSION = 1
SYNC_PAGE = 5000


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def sync_from_store(
    index: VectorIndex,
    store: ChangeFeed,
    since_seq: int,
    *,
    statuses: Collection[str] | None = None,
    min_trust: float | None = None,
    page: int = SYNC_PAGE,
) -> int:
    """Apply the store's changes after ``since_seq`` to ``index``; return the new synced seq.

    Deleted SNOs, SNOs without an embedding and (if ``statuses`` / ``min_trust`` are given) SNOs
    whose status is not in it or whose trust is below it are removed; the others are added or replaced. Embeddings of the wrong dimension
    are skipped with a warning rather than aborting the whole sync.
    """
    seq = since_seq
    while True:
        found = store.changes_since(seq, limit=page)
        if found.changes:
            _apply(index, found.changes, statuses, min_trust)
        seq = max(seq, found.through)
        if found.complete:
            return seq


def _apply(
    index: VectorIndex,
    changes: Sequence[SNOChange],
    statuses: Collection[str] | None,
    min_trust: float | None,
) -> None:
    add_ids: list[str] = []
    add_vectors: list[np.ndarray] = []
    drop: list[str] = []
    for change in changes:
        wanted = (statuses is None or change.status in statuses) and (
            min_trust is None or (change.trust is not None and change.trust >= min_trust)
        )
        if change.deleted or change.embedding is None or not wanted:
            drop.append(change.sno_id)
        elif change.embedding.shape[0] != index.dimension:
            log.warning(
                "index.sync.skip_dimension",
                sno_id=change.sno_id,
                expected=index.dimension,
                actual=int(change.embedding.shape[0]),
            )
            drop.append(change.sno_id)
        else:
            add_ids.append(change.sno_id)
            add_vectors.append(change.embedding)
    if drop:
        index.remove(drop)
    if add_ids:
        index.add(add_ids, np.vstack(add_vectors).astype(np.float32))


def rebuild_from_store(
    store: ChangeFeed,
    *,
    dimension: int,
    kind: IndexKind | str = IndexKind.FLAT,
    hnsw_m: int = 32,
    ef_construction: int = 200,
    ef_search: int = 256,
    rebuild_ratio: float = 0.2,
    statuses: Collection[str] | None = None,
    min_trust: float | None = None,
) -> tuple[FaissVectorIndex, int]:
    """A fresh index holding every embedded SNO of the store; returns it and its synced seq."""
    index = FaissVectorIndex(
        dimension,
        kind,
        hnsw_m=hnsw_m,
        ef_construction=ef_construction,
        ef_search=ef_search,
        rebuild_ratio=rebuild_ratio,
    )
    return index, sync_from_store(index, store, 0, statuses=statuses, min_trust=min_trust)


def save_index(
    index: FaissVectorIndex, path: Path, *, synced_seq: int, model_name: str, selection: str | None = None
) -> None:
    """Write ``path`` (faiss) and ``path.json`` (sidecar) atomically.

    ``selection`` says which SNOs the index holds (e.g. active with trust at least 0.4): a file
    saved for another selection is not loaded, since its contents would silently be wrong."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = faiss.serialize_index(index.faiss_index).tobytes()
    sidecar = {
        "format_version": FORMAT_VERSION,
        "dimension": index.dimension,
        "kind": index.kind.value,
        "hnsw_m": index.hnsw_m,
        "model_name": model_name,
        "synced_seq": int(synced_seq),
        "selection": selection,
        "index_sha256": hashlib.sha256(data).hexdigest(),
        "saved_at": datetime.now(UTC).isoformat(),
        **index.id_state(),
    }
    _atomic_write(path, data)
    _atomic_write(sidecar_path(path), json.dumps(sidecar, sort_keys=True).encode("utf-8"))
    log.info("index.saved", path=str(path), size=len(index), synced_seq=synced_seq, kind=index.kind.value)


def load_index(
    path: Path,
    *,
    dimension: int,
    kind: IndexKind | str,
    model_name: str,
    ef_construction: int = 200,
    ef_search: int = 256,
    rebuild_ratio: float = 0.2,
    selection: str | None = None,
) -> tuple[FaissVectorIndex, int]:
    """Load ``path``; raise :class:`VectorIndexError` if missing, corrupt or not what was asked for
    (another dimension, kind, model or — when ``selection`` is given — another selection of SNOs).

    The graph degree (``hnsw_m``) is the saved one: changing it means rebuilding the graph. The
    search breadth, the build breadth of later inserts and the rebuild ratio are the caller's.
    """
    meta_path = sidecar_path(path)
    if not path.is_file() or not meta_path.is_file():
        raise VectorIndexError(f"no saved index at {path}", path=str(path))
    try:
        meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
        data = path.read_bytes()
    except (OSError, ValueError) as exc:
        raise VectorIndexError(f"unreadable index sidecar {meta_path}: {exc}", path=str(path)) from exc
    expected = {"format_version": FORMAT_VERSION, "dimension": dimension, "kind": parse_kind(kind).value}
    expected["model_name"] = model_name
    if selection is not None:
        expected["selection"] = selection
    for key, value in expected.items():
        if meta.get(key) != value:
            raise VectorIndexError(
                f"saved index has {key}={meta.get(key)!r}, expected {value!r}", path=str(path), key=key
            )
    if hashlib.sha256(data).hexdigest() != meta.get("index_sha256"):
        raise VectorIndexError(f"index file {path} does not match its sidecar checksum", path=str(path))
    index = FaissVectorIndex(
        dimension,
        meta["kind"],
        hnsw_m=int(meta.get("hnsw_m", 32)),
        ef_construction=ef_construction,
        ef_search=ef_search,
        rebuild_ratio=rebuild_ratio,
    )
    try:
        index.restore(faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8)), meta)
    except (RuntimeError, KeyError, TypeError, ValueError) as exc:
        raise VectorIndexError(f"corrupt index file {path}: {exc}", path=str(path)) from exc
    return index, int(meta["synced_seq"])


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
