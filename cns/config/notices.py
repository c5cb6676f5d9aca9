"""Warnings about the configuration, each logged once per process.

A config is built several times in one process (the CLI builds it for its logging options, then
for the command), so a warning about it (an unknown ``CNS_`` variable, a critic that gets all the
weight) would repeat; it is logged the first time only. The CLI builds the config before logging is
set up: :func:`held_config_notices` keeps the warnings back until it has been.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

#: the standard-library logger: it writes to stderr even before logging is set up (a structlog
#: logger would print to stdout then, into a command's JSON output)
log = logging.getLogger(__name__)

_already_logged: set[str] = set()
_held: ContextVar[list[str] | None] = ContextVar("cns_config_notices", default=None)


def config_notice(message: str) -> None:
    """Log a configuration warning (one line) unless it was logged before in this process."""
    held = _held.get()
    if held is not None:
        if message not in held:
            held.append(message)
        return
    if message in _already_logged:
        return
    _already_logged.add(message)
    log.warning("%s", message)


@contextmanager
def held_config_notices() -> Iterator[None]:
    """Hold the warnings raised inside the block, and log them when it ends (the caller sets up
    logging at the end of the block)."""
    token = _held.set([])
    try:
        yield
        pending = _held.get() or []
    finally:
        _held.reset(token)
    for message in pending:
        config_notice(message)


def forget_config_notices() -> None:
    """Log every warning again (tests)."""
    _already_logged.clear()
