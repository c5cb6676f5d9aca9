"""S18[.cnsignore]: a hostile ``.cnsignore`` never hangs or aborts ``load_path`` (docs/reliability.md).

Before: a FIFO named ``.cnsignore`` hung ``cns run`` with no output (reading a FIFO blocks until a
writer appears), and a ``.cnsignore`` that is a directory aborted the run with a traceback. Now an
ignore file that is not a readable regular file is logged and skipped; the other files load.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cns.ingestion.loaders.dispatch import load_path
from tests.reliability.reliability_support import record

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(30)]
TEXT = "Coffee improves focus because caffeine blocks adenosine receptors."


def test_fifo_or_directory_cnsignore_does_not_hang_or_abort(tmp_path: Path) -> None:
    fifo_dir, dir_dir = tmp_path / "fifo", tmp_path / "dir"
    for folder in (fifo_dir, dir_dir):
        folder.mkdir()
        (folder / "a.txt").write_text(TEXT, encoding="utf-8")
    os.mkfifo(fifo_dir / ".cnsignore")
    (dir_dir / ".cnsignore").mkdir()
    loaded = {name: load_path(folder) for name, folder in (("FIFO", fifo_dir), ("directory", dir_dir))}
    for name, result in loaded.items():
        assert [d.source.endswith("a.txt") for d in result.documents] == [True], (name, result)
    record(
        "S18[.cnsignore]",
        "cns run's loader on a folder whose .cnsignore is a FIFO, and on one where it is a directory",
        "both finish within the 30 s test limit, a.txt loaded, the ignore file logged as unusable "
        "(before: FIFO hung forever, directory aborted the run with a traceback)",
        lost=0,
        duplicated=0,
    )
