"""What the CLI writes on stderr, and how: human lines or JSON lines; quiet, normal or verbose.

stdout carries what a command was asked for (a table, ``--json``, an SNO); stderr carries
everything about how it went: log lines, progress, per-file lines, warnings, the summary and
errors. Each stderr line is one of four kinds, which decide what ``--quiet`` keeps:

* ``detail``  — a line per document, skipped file, timing…   (hidden by ``--quiet``)
* ``warning`` — something the user may want to act on          (hidden by ``--quiet``)
* ``summary`` — the final counts and where the outputs went    (always)
* ``error``   — what failed and why                            (always)

With ``--log-format json`` every stderr line is a JSON object — log records and these lines alike
(``{"event": …, "level": …, "message": …, "logger": "cns.cli", "timestamp": …}`` plus the line's
fields) — and no progress bar is drawn: a bar is terminal drawing, not a record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

from rich.console import Console
from rich.text import Text

LEVELS = {"detail": "info", "warning": "warning", "summary": "info", "error": "error"}


class Verbosity(IntEnum):
    QUIET = 0
    NORMAL = 1
    VERBOSE = 2


def stderr_console() -> Console:
    """The stderr console: lines are not cut at 80 columns when stderr is a file or a pipe."""
    return Console(stderr=True, soft_wrap=True)


@dataclass
class Output:
    """Where a command's stderr lines go; the one instance in use is :func:`out`."""

    json: bool = False
    verbosity: Verbosity = Verbosity.NORMAL
    console: Console = field(default_factory=stderr_console)

    @property
    def quiet(self) -> bool:
        return self.verbosity is Verbosity.QUIET

    def detail(self, markup: str, event: str = "cli.detail", **fields: Any) -> None:
        self.emit("detail", markup, event, fields)

    def warning(self, markup: str, event: str = "cli.warning", **fields: Any) -> None:
        self.emit("warning", markup, event, fields)

    def summary(self, markup: str, event: str = "cli.summary", **fields: Any) -> None:
        self.emit("summary", markup, event, fields)

    def error(self, markup: str, event: str = "cli.error", **fields: Any) -> None:
        self.emit("error", markup, event, fields)

    def emit(self, kind: str, markup: str, event: str, fields: dict[str, Any]) -> None:
        """Print one line of ``kind`` (Rich markup; user text in it must be escaped)."""
        if self.quiet and kind in ("detail", "warning"):
            return
        if not self.json:
            self.console.print(markup, highlight=False, soft_wrap=True)
            return
        record = {
            "event": event,
            "level": LEVELS[kind],
            "message": Text.from_markup(markup).plain.strip(),
            **fields,
            "logger": "cns.cli",
            "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        }
        stream = self.console.file
        stream.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        stream.flush()


class ConsoleLogStream:
    """A text stream for the log handler that prints through the console.

    Rich draws its progress bars on the same stderr; a log line written past the console would
    land inside a bar being redrawn. Printed through the console it appears above the bars.
    """

    def __init__(self, console: Console) -> None:
        self.console = console
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            self.console.print(Text(line), highlight=False, soft_wrap=True)
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self.write("\n")

    def isatty(self) -> bool:
        return self.console.is_terminal


_current = Output()


def out() -> Output:
    """The output settings of the running command (set from the global options)."""
    return _current


def configure_output(*, json_lines: bool, verbosity: Verbosity) -> Output:
    """Set the output of this command from ``--log-format``, ``--quiet`` and ``--verbose``."""
    global _current
    _current = Output(json=json_lines, verbosity=verbosity)
    return _current


def for_console(console: Console | None) -> Output:
    """The current output, or one that prints on ``console`` (tests and embedding code capture it)."""
    if console is None:
        return _current
    return Output(json=_current.json, verbosity=_current.verbosity, console=console)
