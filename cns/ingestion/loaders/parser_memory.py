"""The memory limit of a parser process: watched by the caller, with a hard cap as a backstop.

A parse may add ``loaders.parser_memory_mb`` to its process's address space. Enforcing that with
the kernel's address-space limit (``RLIMIT_AS``) alone is not enough: when a parse grows in many
small steps (BeautifulSoup building hundreds of thousands of nested tags) it reaches the cap with
no memory left for Python to unwind the error. Every allocation on the way out fails again,
destructors and error reports fail in turn, and the process can spin on the CPU for minutes
instead of answering, until the caller's time limit kills it.

So the caller watches the parser's size while it waits for the answer (:class:`MemoryWatch`,
Linux ``/proc``) and kills the process as soon as the parse has added more than the limit, and
the kernel cap sits :data:`BACKSTOP_MB` higher. It only ends a parse whose one large allocation
jumps past the watched limit between two looks; such an allocation fails by itself, with the
headroom below the cap still free, so the error unwinds normally. Where ``/proc`` cannot be
read, the cap (and the time limit) still apply.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["BACKSTOP_MB", "WATCH_SECONDS", "MemoryWatch", "address_space_bytes", "cap_address_space"]

#: how far above the watched limit the kernel's address-space cap sits
BACKSTOP_MB = 64
#: how often the caller looks at the size of a process that is parsing
WATCH_SECONDS = 0.05
_MB = 1024 * 1024


def address_space_bytes(pid: int | None = None) -> int | None:
    """The virtual memory size of process ``pid`` (this one by default), or None where unreadable."""
    try:
        pages = int(Path(f"/proc/{pid or 'self'}/statm").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")


def cap_address_space(memory_mb: int) -> int | None:
    """Cap this process's address space at its size now plus ``memory_mb`` and the backstop.

    Returns the cap in bytes, or None where it cannot be set (not POSIX, or no ``/proc``).
    """
    try:
        import resource
    except ImportError:  # not POSIX: the time limit still applies
        return None
    current = address_space_bytes()
    if current is None:
        return None
    limit = current + (memory_mb + BACKSTOP_MB) * _MB
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ValueError, OSError):
        return None
    return limit


class MemoryWatch:
    """Whether a parser process has grown by more than ``memory_mb`` since it was ready.

    Created by the caller once the process has said it is ready (its size then is the baseline,
    the same moment its own cap was measured from); a process that cannot be measured is never
    reported, which leaves the kernel cap and the time limit in charge.
    """

    def __init__(self, pid: int, memory_mb: int) -> None:
        self.pid = pid
        self.limit = memory_mb * _MB
        self.baseline = address_space_bytes(pid)

    def exceeded(self) -> bool:
        if self.baseline is None:
            return False
        size = address_space_bytes(self.pid)
        return size is not None and size - self.baseline > self.limit
