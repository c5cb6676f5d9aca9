"""Walk a folder for ``cns run`` / ``cns ingest`` without being hung, looped or led outside it.

A folder handed to the command line may hold anything: a FIFO (opening it for reading waits
forever for a writer), a device or a socket, symbolic links that loop, dangle, or point out of
the folder (a link to ``/etc/passwd`` would otherwise be read and ingested), names that are not
valid UTF-8, subfolders that cannot be listed. The walk:

- reads only regular files; every other kind of entry is listed as skipped with what it is;
- reads a symbolic link to a file inside the given folders (at worst a duplicate, which
  ingestion reports), but does not enter a link to a folder inside them (its files are read
  from the folder itself, and a link back to a parent would loop);
- follows links out of the given folders only with ``follow_symlinks`` (``--follow-symlinks``);
  a link that loops, dangles or leaves the folder is listed as skipped with the reason and target;
- enters every folder once (by device and inode), so links followed out of the folder cannot loop;
- skips hidden entries (``.git``, ``.DS_Store``) without entering them, and reads
  ``.cnsignore`` only when it is a regular file (an unusable one is listed as skipped);
- never raises for an entry: the run always gets a list of files and a list of skipped entries.

Names that are not valid UTF-8 (Python keeps their bytes as lone surrogates) are walked and
loaded like any other; wherever a name is shown or stored, :func:`display_path` writes the
undecodable bytes as ``\\xNN``.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cns.ingestion.loaders.base import SkippedFile, display_path, file_kind
from cns.logging_setup import get_logger

log = get_logger(__name__)

IGNORE_FILE = ".cnsignore"


@dataclass
class Walk:
    """The regular files found (in a stable order) and every entry skipped, with its reason."""

    files: list[Path] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)

    def skip(self, path: Path | str, reason: str) -> None:
        log.info("ingestion.entry_skipped", path=display_path(path), reason=reason)
        self.skipped.append(SkippedFile(display_path(path), reason))


def _inside(real: str, roots: list[str]) -> bool:
    return any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def _link_problem(path: Path) -> tuple[str | None, os.stat_result | None]:
    """(why the link cannot be followed, or None; the target's stat when it can)."""
    try:
        return None, os.stat(path)
    except FileNotFoundError:
        return f"dangling symbolic link (its target {display_path(os.readlink(path))} does not exist)", None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop (the link points back to itself through other links)", None
        return f"symbolic link whose target cannot be read: {exc.strerror or exc}", None


def _ignore_patterns(ignore: Path, walk: Walk) -> list[str]:
    """The glob patterns of a ``.cnsignore`` (one per line, ``#`` comments), or [] if unusable.

    Never ``open`` anything but a regular file: opening a FIFO blocks forever (a hostile folder
    hung the run), and a directory or an unreadable file used to abort the whole run.
    """
    try:
        info = ignore.lstat()
        if not stat.S_ISREG(info.st_mode):
            walk.skip(ignore, f"ignore file not used: not a regular file ({file_kind(info.st_mode)})")
            return []
        lines = ignore.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        walk.skip(ignore, f"ignore file not used: unreadable ({exc.strerror or exc})")
        return []
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def _ignored_by(path: Path, patterns: dict[Path, list[str]]) -> Path | None:
    """The ``.cnsignore`` that excludes ``path`` (patterns match the relative path or the file name)."""
    for folder, globs in patterns.items():
        if folder not in path.parents:
            continue
        relative = path.relative_to(folder).as_posix()
        if any(fnmatch.fnmatch(relative, g) or fnmatch.fnmatch(path.name, g) for g in globs):
            return folder / IGNORE_FILE
    return None


class _Walker:
    def __init__(self, roots: list[str], follow_symlinks: bool) -> None:
        self.roots = roots
        self.follow_symlinks = follow_symlinks
        self.seen_dirs: set[tuple[int, int]] = set()
        self.patterns: dict[Path, list[str]] = {}
        self.walk = Walk()

    def folder(self, folder: Path, info: os.stat_result) -> None:
        if (info.st_dev, info.st_ino) in self.seen_dirs:
            self.walk.skip(folder, "folder already read (a symbolic link leads back to it)")
            return
        self.seen_dirs.add((info.st_dev, info.st_ino))
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            self.walk.skip(folder, f"folder cannot be listed: {exc.strerror or exc}")
            return
        for entry in entries:
            if entry.name == IGNORE_FILE:
                self.patterns[folder] = _ignore_patterns(folder / entry.name, self.walk)
        for entry in entries:
            if not entry.name.startswith("."):
                self.entry(folder / entry.name)

    def entry(self, path: Path) -> None:
        try:
            info = path.lstat()
        except OSError as exc:
            self.walk.skip(path, f"cannot be read: {exc.strerror or exc}")
            return
        if stat.S_ISLNK(info.st_mode):
            problem, info_or_none = _link_problem(path)
            if problem is not None or info_or_none is None:
                self.walk.skip(path, problem or "symbolic link that cannot be followed")
                return
            real = os.path.realpath(path)
            inside = _inside(real, self.roots)
            if not self.follow_symlinks and not inside:
                self.walk.skip(
                    path,
                    f"symbolic link to {display_path(real)}, outside the given folders: not followed "
                    "(pass --follow-symlinks to follow it)",
                )
                return
            if inside and stat.S_ISDIR(info_or_none.st_mode):
                self.walk.skip(
                    path, "symbolic link to a folder inside the given folders: its files are read there"
                )
                return
            info = info_or_none
        if stat.S_ISDIR(info.st_mode):
            self.folder(path, info)
        elif stat.S_ISREG(info.st_mode):
            excluded_by = _ignored_by(path, self.patterns)
            if excluded_by is not None:
                self.walk.skip(path, f"excluded by {display_path(excluded_by)}")
            else:
                self.walk.files.append(path)
        else:
            self.walk.skip(path, f"not a regular file ({file_kind(info.st_mode)}); never read")


def walk_folder(root: str | Path, *, follow_symlinks: bool = False) -> Walk:
    """The regular files under ``root`` (recursively) and every entry skipped, with its reason."""
    root = Path(root)
    walker = _Walker([os.path.realpath(root)], follow_symlinks)
    try:
        info = root.stat()
    except OSError as exc:
        walker.walk.skip(root, f"cannot be read: {exc.strerror or exc}")
        return walker.walk
    if stat.S_ISDIR(info.st_mode):
        walker.folder(root, info)
    else:
        walker.entry(root)
    walker.walk.files.sort()
    return walker.walk
