"""Helper (not a test module): kill a writing process mid-batch and check what survived."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from cns.store.sql import SQLStore

REPO = Path(__file__).resolve().parents[2]
BATCH = 20
WRITER = f"""
import sys
from cns.store.sql import SQLStore
from cns.testing.contracts import sample_sno
store = SQLStore.open(sys.argv[1])
n = 0
while True:
    store.put_many([sample_sno(f"b{{n}}-{{i}}", seed=n * 1000 + i) for i in range({BATCH})])
    print(n, flush=True)
    n += 1
"""


def kill_writer_mid_batch(url: str, *, batches: int = 6) -> int:
    """Run a writer storing batches of SNOs, SIGKILL it after ``batches``; return batches it reported."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, url], stdout=subprocess.PIPE, text=True, env=env, cwd=REPO
    )
    assert child.stdout is not None
    reported: list[str] = []
    try:
        while sum(line.strip().isdigit() for line in reported) < batches:  # log lines may interleave
            line = child.stdout.readline()
            assert line, "the writer exited before storing enough batches"
            reported.append(line)
        child.send_signal(signal.SIGKILL)
        reported += child.stdout.readlines()  # printed before the kill, hence committed
    finally:
        child.kill()
        child.wait(timeout=30)
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    return sum(line.strip().isdigit() for line in reported)


def check_survivors(store: SQLStore, committed_batches: int) -> int:
    """Assert nothing reported was lost and no partial batch exists; return the SNO count."""
    total = len(store)
    assert total >= committed_batches * BATCH  # nothing reported as stored is lost
    assert total % BATCH == 0  # the batch in flight at the kill vanished entirely
    assert sorted(c.seq for c in store.snos_since(0)) == list(range(1, total + 1))  # no gaps
    assert all(len(s.evidence_keys) == 2 for s in store.list())  # every stored SNO is whole
    if store.backend == "sqlite":
        with store.engine.connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    return total
