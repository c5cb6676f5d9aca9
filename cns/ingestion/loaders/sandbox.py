"""Parse untrusted PDF, HTML and Markdown in worker processes with a time and a memory limit.

pypdf, BeautifulSoup and the Markdown renderer are pure Python and not hardened against hostile
input: a 6 KB PDF whose pages share one compressed content stream expands to millions of
characters, 5 MB of unclosed HTML tags take minutes and over a gigabyte. In-process, such a parse
holds the interpreter lock (the API stops answering) and cannot be interrupted. Here it runs in a
parser process (a Python subprocess running :func:`serve`), at most ``loaders.parsers`` at once:

- a parse may add ``loaders.parser_memory_mb`` to its process's address space: the caller watches
  the process while it parses and kills it beyond that, and a kernel cap (``RLIMIT_AS``) a little
  higher catches one sudden large allocation (:mod:`cns.ingestion.loaders.parser_memory` says why
  both); either way the file is skipped and the process replaced;
- the caller waits ``loaders.parse_timeout_seconds`` for the answer, then kills the process (a
  new one starts for the next file);
- a caller that cannot wait for a free parser (the API) gets :class:`ParsersBusy` at once
  instead of queueing behind a slow file.

Each failure becomes a :class:`~cns.ingestion.loaders.base.SkippedFileError` whose reason names
the limit, so ``cns run`` lists the file as skipped and ``POST /ingest/files`` answers 422 with
it. Parser processes are started on first use and kept for the next files (starting one imports
the loaders, about a second); one that exceeded a limit is never reused. They exit when the
process that started them does.

The two processes talk over a pair of private pipes with length-prefixed pickles; both ends are
this module, started by this module, so nothing else ever writes to them.
"""

from __future__ import annotations

import atexit
import concurrent.futures
import contextlib
import os
import pickle
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from cns.errors import IngestionError
from cns.ingestion.document import Document
from cns.ingestion.loaders.base import LoaderLimits, SkippedFileError
from cns.ingestion.loaders.parser_memory import WATCH_SECONDS, MemoryWatch, cap_address_space
from cns.logging_setup import get_logger

log = get_logger(__name__)

Loader = Callable[..., list[Document]]

#: how long a new parser process may take to import the loaders and say it is ready
STARTUP_SECONDS = 120.0
#: a parser process is replaced after this many files (bounds slow growth of its heap)
MAX_FILES_PER_PROCESS = 200
_REAP_SECONDS = 5.0
#: Linux prctl option: the signal this process gets when the thread that started it exits
_PR_SET_PDEATHSIG = 1


class ParsersBusy(Exception):
    """Every parser process is in use and the caller asked not to wait (the API answers 503).

    Not an :class:`~cns.errors.IngestionError`: nothing is wrong with the file, so it must never
    be turned into a skipped entry.
    """

    def __init__(self, parsers: int) -> None:
        super().__init__(f"all {parsers} file parsers are busy (loaders.parsers); retry in a few seconds")
        self.parsers = parsers


def memory_reason(limits: LoaderLimits) -> str:
    return (
        f"parsing needs more than {limits.parser_memory_mb} MB of memory (loaders.parser_memory_mb); "
        "the file was not ingested"
    )


def timeout_reason(limits: LoaderLimits) -> str:
    return (
        f"parsing took longer than {limits.parse_timeout_seconds:g} s (loaders.parse_timeout_seconds); "
        "the file was not ingested"
    )


def run_loader(
    loader: Loader, data: bytes, path: Path, metadata: dict[str, Any] | None, limits: LoaderLimits
) -> list[Document]:
    """Call ``loader``; the PDF loader also gets the limits (pages and characters, page by page)."""
    from cns.ingestion.loaders.pdf import load_pdf

    if loader is load_pdf:
        return load_pdf(data, path, metadata, limits=limits)
    return loader(data, path, metadata)


# ---------------------------------------------------------------------------------- the parser


def _watch_parent(parent: int) -> None:
    """Exit as soon as the process that started this one is gone (where the kernel cannot tell us)."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _die_with_parent(parent: int) -> None:
    """Ask Linux to SIGKILL this process when its parent dies, and exit if it already has.

    The watch thread alone is not enough: a parse stuck inside C code that holds the interpreter
    lock (seen with a tiny memory cap) never lets that thread run, so the parser would spin on
    the CPU long after the process that wanted the answer was gone. The kernel's parent-death
    signal fires whatever the parser is doing. It is tied to the *thread* that started this
    process, which is why the caller starts parsers from one long-lived thread (:func:`_spawn`).
    """
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(0)


def _answer(loader: Loader, data: bytes, name: str, metadata: Any, limits: LoaderLimits) -> tuple[str, Any]:
    try:
        return "ok", run_loader(loader, data, Path(name), metadata, limits)
    except SkippedFileError as exc:
        return "skip", exc.reason
    except IngestionError as exc:
        return "skip", exc.message
    except MemoryError:
        return "memory", memory_reason(limits)
    except Exception as exc:  # a parser choking on malformed input; the caller only needs the reason
        return "skip", f"unreadable: {type(exc).__name__}: {exc}"[:500]


def serve(read_fd: int, write_fd: int, parent: int, memory_mb: int) -> None:
    """The parser process: answer requests until the pipe closes, a parse runs out of memory, or
    it has served :data:`MAX_FILES_PER_PROCESS` files."""
    _die_with_parent(parent)
    # import every loader before the memory cap (the imports themselves need address space)
    from cns.ingestion.loaders import html, jsonl, pdf, text  # noqa: F401
    from cns.logging_setup import configure_logging

    configure_logging(level="WARNING", fmt="json", stream=sys.stderr)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    requests, answers = Connection(read_fd, writable=False), Connection(write_fd, readable=False)
    cap_address_space(memory_mb)
    answers.send_bytes(b"ready")
    for _ in range(MAX_FILES_PER_PROCESS):
        try:
            loader, data, name, metadata, limits = pickle.loads(requests.recv_bytes())
        except (EOFError, OSError):
            return
        # prepared before the parse: once memory is exhausted even building this answer can fail
        out_of_memory = pickle.dumps(("memory", memory_reason(limits)))
        try:
            status, value = _answer(loader, data, name, metadata, limits)
            del data
            payload = pickle.dumps((status, value), protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            status, payload = "memory", out_of_memory
        answers.send_bytes(payload)
        if status == "memory":
            return  # the heap may be left fragmented: a fresh process takes the next file


# ---------------------------------------------------------------------------------- the caller


_SPAWNER: concurrent.futures.ThreadPoolExecutor | None = None
_SPAWNER_LOCK = threading.Lock()


def _spawn(argv: list[str], env: dict[str, str], fds: tuple[int, int]) -> subprocess.Popen[bytes]:
    """Start a parser process from one thread that lives as long as this process.

    A parser's parent-death signal (see :func:`_die_with_parent`) fires when the thread that
    started it exits. The API starts parsers from short-lived thread-pool threads, which would
    kill idle parsers for nothing; one dedicated spawning thread never exits before the process.
    """
    global _SPAWNER
    with _SPAWNER_LOCK:
        if _SPAWNER is None:
            _SPAWNER = concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="cns-parser-spawn"
            )
        spawner = _SPAWNER

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            argv, env=env, pass_fds=fds, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, close_fds=True,
        )  # fmt: skip

    return spawner.submit(start).result()


class _Parser:
    """One parser process and the two pipe ends that talk to it."""

    def __init__(self, memory_mb: int) -> None:
        self.memory_mb = memory_mb
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        env = dict(os.environ)
        # the same code as the caller, even from a source checkout that is not the installed one
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        # one malloc arena: a second thread's arena reserves 64 MB of address space at once, which
        # would count as memory the parse used
        env["MALLOC_ARENA_MAX"] = "1"
        args = f"{to_child_r}, {from_child_w}, {os.getpid()}, {int(memory_mb)}"
        argv = [sys.executable, "-c", f"from {__name__} import serve; serve({args})"]
        try:
            self.process = _spawn(argv, env, (to_child_r, from_child_w))
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        self.requests = Connection(to_child_w, readable=False)
        self.answers = Connection(from_child_r, writable=False)
        self.files = 0
        if not self.answers.poll(STARTUP_SECONDS) or self.answers.recv_bytes() != b"ready":
            self.kill()
            raise OSError(f"a parser process did not start within {STARTUP_SECONDS:g} s")
        self.memory = MemoryWatch(self.process.pid, memory_mb)

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(_REAP_SECONDS)
        for conn in (self.requests, self.answers):
            with contextlib.suppress(OSError):
                conn.close()

    def _wait(self, timeout: float) -> str:
        """How waiting for the answer ended: ``answer`` (it answered, or died), ``memory`` (it grew
        past its limit, checked every :data:`WATCH_SECONDS`) or ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return "timeout"
            if self.answers.poll(min(left, WATCH_SECONDS)):
                return "answer"
            if self.memory.exceeded():
                return "memory"

    def parse(
        self, loader: Loader, data: bytes, path: Path, metadata: dict[str, Any] | None, limits: LoaderLimits
    ) -> tuple[str, Any]:
        """(status, documents or reason); on a timeout, over its memory or dead, the process is killed."""
        self.files += 1
        request = pickle.dumps((loader, data, str(path), metadata, limits), protocol=pickle.HIGHEST_PROTOCOL)
        try:
            self.requests.send_bytes(request)
            waited = self._wait(limits.parse_timeout_seconds)
            if waited == "timeout":
                self.kill()
                log.warning("ingestion.parse_timeout", path=str(path), seconds=limits.parse_timeout_seconds)
                return "skip", timeout_reason(limits)
            if waited == "memory":
                self.kill()
                log.warning("ingestion.parse_memory", path=str(path), memory_mb=limits.parser_memory_mb)
                return "skip", memory_reason(limits)
            status, value = pickle.loads(self.answers.recv_bytes())
        except (EOFError, OSError):
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(1.0)
            code = self.process.returncode
            self.kill()
            log.warning("ingestion.parser_died", path=str(path), exitcode=code)
            how = (
                f"was killed by signal {-code}" if code is not None and code < 0 else f"exited (code {code})"
            )
            return "skip", (
                f"the parser process {how} while parsing, most likely over its memory limit of "
                f"{limits.parser_memory_mb} MB (loaders.parser_memory_mb); the file was not ingested"
            )
        if status == "memory":
            self.kill()  # it exits by itself after a MemoryError; do not wait for that
            log.warning("ingestion.parse_memory", path=str(path), memory_mb=limits.parser_memory_mb)
            return "skip", value
        return status, value


class ParserPool:
    """At most ``size`` parses at once, each in a parser process (see the module docstring)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._slots = threading.BoundedSemaphore(size)
        self._idle: list[_Parser] = []
        self._lock = threading.Lock()

    def _acquire(self, wait: float | None) -> bool:
        if wait is None:
            return self._slots.acquire()
        if wait <= 0:
            return self._slots.acquire(blocking=False)
        return self._slots.acquire(timeout=wait)

    def _take(self, memory_mb: int) -> _Parser:
        with self._lock:
            while self._idle:
                parser = self._idle.pop()
                if parser.alive() and parser.files < MAX_FILES_PER_PROCESS and parser.memory_mb == memory_mb:
                    return parser
                parser.kill()
        return _Parser(memory_mb)

    def parse(
        self, loader: Loader, data: bytes, path: Path, metadata: dict[str, Any] | None, limits: LoaderLimits
    ) -> list[Document]:
        """Documents of ``data``, or SkippedFileError naming the limit it crossed; ParsersBusy if full."""
        if not self._acquire(limits.wait_for_parser):
            raise ParsersBusy(self.size)
        try:
            try:
                parser = self._take(limits.parser_memory_mb)
            except OSError as exc:  # never parse a risky file without its limits
                log.warning("ingestion.parser_process_unavailable", error=f"{type(exc).__name__}: {exc}")
                raise SkippedFileError(
                    path, f"no parser process could be started ({type(exc).__name__}: {exc}); not ingested"
                ) from exc
            status, value = parser.parse(loader, data, path, metadata, limits)
            if parser.alive():
                with self._lock:
                    self._idle.append(parser)
        finally:
            self._slots.release()
        if status != "ok":
            raise SkippedFileError(path, str(value))
        return list(value)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for parser in idle:
            parser.kill()


_POOLS: dict[int, ParserPool] = {}
_POOLS_LOCK = threading.Lock()


@atexit.register
def close_pools() -> None:
    """Stop every idle parser process (they would also exit on their own once this process is gone)."""
    with _POOLS_LOCK:
        pools = list(_POOLS.values())
    for pool in pools:
        pool.close()


def parser_pool(size: int) -> ParserPool:
    """The process-wide pool with ``size`` slots (one per distinct size, created on first use)."""
    with _POOLS_LOCK:
        pool = _POOLS.get(size)
        if pool is None:
            pool = _POOLS[size] = ParserPool(size)
        return pool


def parse_isolated(
    loader: Loader, data: bytes, path: Path, metadata: dict[str, Any] | None, limits: LoaderLimits
) -> list[Document]:
    """Run ``loader`` on ``data`` in a parser process under ``limits`` (the module docstring says how)."""
    return parser_pool(limits.parsers).parse(loader, data, path, metadata, limits)
