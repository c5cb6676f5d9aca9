"""A parser process never outlives the process that started it, even when stuck in C code.

A parse stuck in a C call that holds the interpreter lock starves the parser's own watch thread,
so only the kernel can end it when its parent dies (the parser arms a parent-death signal).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

DRIVER = """
import sys, threading
from pathlib import Path
from cns.ingestion.loaders.base import LoaderLimits
from cns.ingestion.loaders.sandbox import ParserPool
from tests.ingestion.parser_lifetime_helpers import stuck_loader

pool = ParserPool(1)
limits = LoaderLimits(parse_timeout_seconds=600)
# parse from a short-lived thread, as the API does: the parser must survive that thread's exit
worker = threading.Thread(target=pool.parse, args=(stuck_loader, b"", Path(sys.argv[1]), None, limits))
worker.start()
worker.join()
"""


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux only")
def test_a_stuck_parser_is_killed_when_its_parent_dies(tmp_path: Path) -> None:
    started = tmp_path / "started"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    driver = subprocess.Popen([sys.executable, "-c", DRIVER, str(started)], cwd=ROOT, env=env)
    parser: int | None = None
    try:
        deadline = time.monotonic() + 60
        while not started.exists():
            assert driver.poll() is None, "the driver exited before the parse started"
            assert time.monotonic() < deadline, "the parser never started the stuck parse"
            time.sleep(0.1)
        time.sleep(0.3)  # the loader is now inside the lock-holding sleep
        (parser,) = _children(driver.pid)
        assert _running(parser)
        driver.send_signal(signal.SIGKILL)
        driver.wait(10)
        gone_by = time.monotonic() + 10
        while _running(parser) and time.monotonic() < gone_by:
            time.sleep(0.1)
        assert not _running(parser), "the parser process outlived its parent"
    finally:
        if driver.poll() is None:
            driver.kill()
        if parser is not None and _running(parser):
            os.kill(parser, signal.SIGKILL)


def test_an_idle_parser_outlives_the_short_lived_thread_that_started_it(tmp_path: Path) -> None:
    import threading

    from cns.ingestion.loaders.base import LoaderLimits
    from cns.ingestion.loaders.sandbox import ParserPool
    from cns.ingestion.loaders.text import load_txt

    pool = ParserPool(1)
    limits = LoaderLimits()
    text = b"Coffee improves focus because caffeine blocks adenosine receptors."
    results: list[object] = []
    try:
        first = threading.Thread(
            target=lambda: results.append(pool.parse(load_txt, text, tmp_path / "a.txt", None, limits))
        )
        first.start()
        first.join()
        (parser,) = pool._idle
        time.sleep(0.5)  # a parent-death signal tied to the exited thread would have fired by now
        assert parser.alive()
        again = pool.parse(load_txt, text, tmp_path / "b.txt", None, limits)
        assert pool._idle == [parser] and parser.files == 2
        assert len(again) == 1 and len(results[0]) == 1  # type: ignore[arg-type]
    finally:
        pool.close()
