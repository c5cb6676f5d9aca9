"""R32: the data dir (``CNS_DATA_DIR``) fills up while ingest jobs run.

The data dir is a small tmpfs the test mounts (it runs as root, like CI; outside CI a machine
where mounting is not allowed skips the test). The worker's models are fakes behind the real
persistent embedding and NLI caches (``tests/service/cached_worker_app.py``), which live in the
data dir as SQLite files. Once the file system is full every cache write fails with
``database or disk is full``: that must cost the cache, never the job. And an operator must be
told: ``/readyz`` answers 503 naming the data dir and its free space, ``cns probe`` fails with
the same reason, and ``/readyz`` is ready again once space is freed.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from cns.core.records import JobState
from cns.testing.services import in_ci
from tests.reliability.rel_database import wait_finished
from tests.reliability.rel_service import stack_store
from tests.reliability.reliability_support import conservation, record
from tests.service.service_harness import Stack, parse_json_lines, service_stack, wait_until

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(180)]

TEXT = "Reading {n} improves vocabulary in children. A study followed {n} pupils. Therefore reading helps."
SIZE_MB = 8
MIN_FREE_MB = 2
DOCUMENTS = 10


@contextmanager
def small_filesystem(mountpoint: Path, size_mb: int) -> Iterator[Path]:
    """A tmpfs of ``size_mb`` MiB at ``mountpoint`` (unmounted afterwards, even on failure)."""
    mountpoint.mkdir(parents=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0755", "tmpfs", str(mountpoint)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        reason = f"cannot mount a tmpfs for the full-disk test: {done.stderr.strip() or done.returncode}"
        if in_ci():
            raise AssertionError(reason)
        pytest.skip(reason)
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], capture_output=True, check=False)


def fill(folder: Path) -> Path:
    """Write zeros until the file system answers ENOSPC, down to the last block; return the filler."""
    filler = folder / "filler.bin"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for size in (65536, 4096, 512, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
    finally:
        os.close(fd)
    return filler


def readyz(stack: Stack) -> tuple[int, dict[str, Any]]:
    answer = httpx.get(f"{stack.api_url}/readyz", timeout=20)
    body: dict[str, Any] = answer.json()
    return answer.status_code, body


def probe(stack: Stack) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "cns.cli.service_cmd", "probe", "--deadline", "10"],
        env=stack.env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr


def submit(stack: Stack, prefix: str, count: int) -> list[str]:
    documents = [{"source": f"{prefix}-{n}.txt", "text": TEXT.format(n=f"{prefix}{n}")} for n in range(count)]
    answer = httpx.post(f"{stack.api_url}/ingest/batch", json={"documents": documents}, timeout=30)
    assert answer.status_code == 202, answer.text
    return [item["job_id"] for item in answer.json()["items"]]


def test_r32_full_data_dir_costs_the_cache_not_the_job(tmp_path: Path) -> None:
    with (
        small_filesystem(tmp_path / "data", SIZE_MB) as data_dir,
        service_stack(
            tmp_path, CNS_DATA_DIR=str(data_dir), CNS_SERVICE__DATA_DIR_MIN_FREE_MB=str(MIN_FREE_MB)
        ) as stack,
    ):
        stack.start_worker("worker", app="tests.service.cached_worker_app")
        stack.start_api()
        with stack_store(stack) as store:
            first = submit(stack, "warm", 1)
            assert wait_finished(store, first, 60)[first[0]].state is JobState.SUCCESS
            assert (data_dir / "cache" / "nli.sqlite3").exists()  # the caches are in use
            wait_until(lambda: readyz(stack)[0] == 200, 30, "/readyz to report ready with free space")
            filler = fill(data_dir)
            free_mb = os.statvfs(data_dir).f_bavail * os.statvfs(data_dir).f_frsize / 2**20
            submitted = time.monotonic()
            jobs = submit(stack, "full", DOCUMENTS)
            states = wait_finished(store, jobs, 60)
            finished = time.monotonic() - submitted
            failed = {k: j.error for k, j in states.items() if j.state is not JobState.SUCCESS}
            assert failed == {}, failed

            wait_until(lambda: readyz(stack)[0] == 503, 15, "/readyz to report the full data dir")
            status, body = readyz(stack)
            assert status == 503, body
            disk = body["checks"]["data_dir"]
            assert disk["ok"] is False and "free" in disk["reason"], body
            probe_status, probe_output = probe(stack)
            assert probe_status == 1 and "data dir" in probe_output, probe_output

            filler.unlink()
            freed = time.monotonic()
            wait_until(lambda: readyz(stack)[0] == 200, 30, "/readyz to report ready once space is freed")
            ready_again = time.monotonic() - freed
            tally = conservation(store, [*first, *jobs])
            assert tally.jobs == tally.snos == DOCUMENTS + 1
        events = parse_json_lines(stack.log_lines()["worker"])
        warnings = [e for e in events if e.get("event") == "cache.write_failed"]
        assert 1 <= len(warnings) <= 2, warnings  # once per cache, not once per write
    record(
        "R32",
        f"data dir on a {SIZE_MB} MiB file system filled to {free_mb:.2f} MiB free (ENOSPC) after the "
        f"embedding and NLI caches were created; {DOCUMENTS} documents posted",
        f"all {DOCUMENTS} SUCCESS in {finished:.1f} s without their cache writes ({len(warnings)} "
        f"cache.write_failed warnings, one per cache); /readyz 503 "
        f"'data_dir: {disk['reason'].replace(str(data_dir), '$CNS_DATA_DIR')}', "
        f"`cns probe` exit 1 naming the data dir; /readyz ready again {ready_again:.1f} s after space "
        "was freed (before: 10 of 10 FAILURE 'OperationalError: database or disk is full' while /readyz "
        "and `cns probe` said healthy)",
        lost=tally.lost,
        duplicated=tally.duplicated,
    )
