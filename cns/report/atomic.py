"""Write an output file whole or not at all, whatever text it is given.

Outputs are written to a temporary file next to the target and renamed over it, so a reader
never sees half a report; if anything fails the temporary file is removed (a failed run used to
leave ``report.html.tmp`` behind). Text is encoded with ``backslashreplace``: a lone surrogate
(the undecodable bytes of a file name that is not UTF-8) becomes ``\\udcNN`` instead of raising
``UnicodeEncodeError`` half-way through a run — which, inside a JSON string, is also a valid
JSON escape.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_text_atomic(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` through a temporary file and a rename."""
    data = text.encode("utf-8", "backslashreplace")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
