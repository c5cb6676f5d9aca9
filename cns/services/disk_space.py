"""Free space of the data dir, for readiness: say "disk full" before it costs anything.

The data dir holds the embedding and NLI caches (and, on a single machine, the SQLite store and
the faiss index). The caches degrade to no cache on a full disk (:mod:`cns.models.blob_cache`),
so jobs still succeed there — only slower, and nobody would know. ``/readyz`` and ``cns probe``
therefore report a data dir whose free space fell below ``service.data_dir_min_free_mb``, with
the path and the numbers, so an operator frees space before it matters.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from cns.config.settings import CNSConfig
from cns.errors import CNSError

MIB = 1024 * 1024


class DataDirSpaceError(CNSError):
    """The data dir's file system has less free space than ``service.data_dir_min_free_mb``."""


@dataclass(frozen=True)
class DiskSpace:
    """Free and total bytes of the file system that holds ``path``."""

    path: Path
    free_bytes: int
    total_bytes: int

    @property
    def free_mb(self) -> float:
        return self.free_bytes / MIB


def disk_space(path: Path) -> DiskSpace:
    """The space of ``path``'s file system (of its nearest existing parent, before it exists)."""
    probe = path.expanduser()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    usage = shutil.disk_usage(probe)
    return DiskSpace(path, usage.free, usage.total)


def check_data_dir(config: CNSConfig) -> dict[str, float]:
    """Raise :class:`DataDirSpaceError` when the data dir is short of space; else report it.

    ``service.data_dir_min_free_mb`` = 0 turns the check off (the space is still reported).
    """
    space = disk_space(config.data_dir)
    minimum = config.service.data_dir_min_free_mb
    if minimum > 0 and space.free_mb < minimum:
        raise DataDirSpaceError(
            f"data dir {space.path} has {space.free_mb:.1f} MiB free of {space.total_bytes / MIB:.0f} MiB, "
            f"below service.data_dir_min_free_mb = {minimum:g}: free space there (the caches stop "
            "writing when it is full)",
            path=str(space.path),
            free_mb=round(space.free_mb, 1),
            min_free_mb=minimum,
        )
    return {"free_mb": round(space.free_mb, 1)}
