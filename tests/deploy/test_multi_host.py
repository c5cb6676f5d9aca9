"""Scale-out on several hosts: API, two workers, Redis and PostgreSQL each on a host of its own.

The hosts are network namespaces on this machine (:mod:`cns.testing.netlab`): each has its own
address on a private network and its own directory, and the other hosts' directories are hidden
from its processes, so the run fails if any part of the service relies on a disk another host
has (a SQLite file, a local index, an upload spool) or on ``127.0.0.1``. The test shows

* the corpus posted to the API gives the same document SNOs (ids, status, trust after the
  population re-score) and the same pairs as ``cns run`` on one machine — which
  ``tests/service/test_lifecycle_parity.py`` shows equal to one worker on one host;
* every worker writes only its own data directory;
* SIGKILL of one host's whole worker mid-batch loses nothing: every job succeeds exactly once on
  the other host, and no document is stored twice.

It needs root to create namespaces; outside CI it is skipped (with the reason) where that is not
possible, in CI it fails.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cns.cli.main import app
from cns.store.sql import SQLStore
from cns.testing.lab_services import start_postgres, start_redis
from cns.testing.netlab import LabHost, NetLab, lab_supported, wait_for_port
from cns.testing.services import in_ci
from tests.services.run_corpus import write_corpus

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]

REPO = Path(__file__).resolve().parents[2]
API_PORT = 8000
#: fake models; syntheses are all rejected, so the active population after the re-score is the
#: documents alone whatever order two workers finish them in; short limits for redelivery
SETTINGS = {
    "CNS_MODELS__EMBEDDING_BACKEND": "fake",
    "CNS_MODELS__NLI_BACKEND": "fake",
    "CNS_THRESHOLDS__SYNTHESIS": "1.0",
}
SERVICE = {
    **SETTINGS,
    "CNS_LOG_FORMAT": "json",
    "CNS_SERVICE__RATE_LIMIT_PER_MINUTE": "0",
    "CNS_CELERY__VISIBILITY_TIMEOUT_SECONDS": "10",
    "CNS_CELERY__TASK_TIME_LIMIT_SECONDS": "8",
    "CNS_CELERY__TASK_SOFT_TIME_LIMIT_SECONDS": "7",
    "CNS_CELERY__LEASE_SECONDS": "5",  # below the visibility timeout (checked at start-up)
    "CNS_CELERY__LEASE_RENEW_SECONDS": "1",
    "CNS_CELERY__FIND_PAIRS_INTERVAL_SECONDS": "2",
}
#: more documents than the two workers hold at once, so the kill lands mid-batch
EXTRA = {
    f"log-{i:02d}.txt": (
        f"Logbook {i}\n\nStation {i} recorded calm weather on the morning shift. Crews replaced one "
        f"instrument battery at mast {i}. Readings were filed on schedule.\n"
    )
    for i in range(40)
}


@pytest.fixture
def lab() -> Iterator[NetLab]:
    reason = lab_supported()
    if reason is not None:
        if in_ci():
            pytest.fail(f"the multi-host test must run in CI: {reason}")
        pytest.skip(reason)
    with NetLab() as lab:
        yield lab


def host_env(host: LabHost, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("CNS_")}
    env.update({"PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    env.update({"HOME": str(host.directory), "CNS_DATA_DIR": str(host.directory / "data"), **extra})
    return env


class LabClient:
    """Questions asked from the client host, through one long-running ``lab_client serve``."""

    def __init__(self, client: LabHost, env: dict[str, str]) -> None:
        argv = [sys.executable, "-m", "cns.testing.lab_client", "serve"]
        self.log = (client.directory / "lab-client.log").open("ab")
        self.proc = subprocess.Popen(
            client.command(argv), env=env, cwd=client.directory, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self.log, bufsize=0,
        )  # fmt: skip
        self.pending = b""  # what was read from its output past the last full line

    def ask(self, *command: str, timeout: float = 120.0) -> dict[str, Any]:
        """The JSON answer to ``command`` (``post API_URL DIR`` or ``snapshot DATABASE_URL``)."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write((" ".join(command) + "\n").encode())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line, newline, rest = self.pending.partition(b"\n")
            if newline:
                self.pending = rest
                if line.startswith(b"{"):  # log lines may come before the answer
                    return json.loads(line)  # type: ignore[no-any-return]
                continue
            ready, _, _ = select.select([self.proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(self.proc.stdout.fileno(), 1 << 20) if ready else b""
            if ready and not chunk:
                break  # the client exited
            self.pending += chunk
        raise AssertionError(f"no answer to {command[0]} from the client host within {timeout} s")

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.log.close()


def wait_for(check: Any, timeout: float, what: str, lab: NetLab) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{lab.tail_logs()}")


def documents_and_pairs(snos: dict[str, list[Any]], pairs: dict[str, list[Any]]) -> dict[str, Any]:
    docs = {i: (status, trust) for i, (status, trust, synthesis, _) in snos.items() if not synthesis}
    doc_pairs = {i: tuple(p) for i, p in pairs.items() if p[0] in docs and p[1] in docs}
    return {"docs": docs, "pairs": doc_pairs}


def local_reference(corpus: Path, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    for key, value in SETTINGS.items():
        monkeypatch.setenv(key, value)
    ran = CliRunner().invoke(
        app,
        [
            "run",
            str(corpus),
            "--out",
            str(tmp / "out"),
            "--data-dir",
            str(tmp / "local"),
            "--max-syntheses",
            "0",
        ],
    )
    assert ran.exit_code == 0, ran.output
    with SQLStore.open(tmp / "local" / "cns.sqlite3") as store:
        snos = {
            s.sno_id: [s.status.value, s.trust_score, "parent_ids" in s.metadata, None] for s in store.list()
        }
        pairs = {
            p.pair_id: [p.sno_a, p.sno_b, p.chirality, p.entanglement, p.potential, p.source]
            for p in store.list_pairs()
        }
    return documents_and_pairs(snos, pairs)


def test_api_two_workers_redis_and_postgres_on_separate_hosts(
    lab: NetLab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    corpus = write_corpus(tmp_path / "docs")
    for name, text in EXTRA.items():
        (corpus / name).write_text(text, encoding="utf-8")
    client = lab.add_host("client")
    db, broker = lab.add_host("db"), lab.add_host("broker")
    api, w1, w2 = lab.add_host("api"), lab.add_host("worker1"), lab.add_host("worker2")
    # the corpus is the client's file: copy it onto the client host's disk
    shipped = client.directory / "corpus"
    shipped.mkdir()
    for path in corpus.iterdir():
        (shipped / path.name).write_bytes(path.read_bytes())

    database_url = start_postgres(db, client, host_env(db))
    broker_url = start_redis(broker, client, host_env(broker))
    urls = {"CNS_DATABASE_URL": database_url, "CNS_BROKER_URL": broker_url, **SERVICE}
    serve = [
        sys.executable,
        "-m",
        "cns.cli.service_cmd",
        "serve",
        "--host",
        api.address,
        "--port",
        str(API_PORT),
    ]
    api.start("api", serve, host_env(api, **urls))
    # worker1 judges slowly (the same answers), so the kill surely lands inside a running job
    slow = {"CNS_FAKE_NLI_DELAY_SECONDS": "5"}
    for host, app_module, extra in ((w1, "tests.service.slow_worker_app", slow), (w2, "cns.tasks", {})):
        worker = [sys.executable, "-m", "celery", "-A", app_module, "--quiet", "worker",
                  "--pool", "prefork", "--concurrency", "1", "--queues", "cns", "--without-gossip",
                  "--without-mingle", "--loglevel", "INFO", "--hostname", f"{host.name}@%h"]  # fmt: skip
        host.start("worker", worker, host_env(host, **urls, **extra))
    client_env = host_env(client, **urls)
    asker = LabClient(client, client_env)
    request.addfinalizer(asker.close)
    # the one-machine reference is computed here, while the service processes start up
    reference = local_reference(corpus, tmp_path, monkeypatch)
    assert reference["pairs"], "the corpus has chiral pairs"
    wait_for_port(api, API_PORT, via=client)
    wait_for(lambda: "ready" in w1.log("worker") and "ready" in w2.log("worker"), 60, "both workers", lab)

    api_url = f"http://{api.address}:{API_PORT}"
    task_ids = asker.ask("post", api_url, str(shipped))["task_ids"]
    assert len(task_ids) == len(reference["docs"]) == len(EXTRA) + 4

    def started_on_worker1() -> str | None:
        for line in w1.log("worker").splitlines():
            if '"job.started"' in line:
                return str(json.loads(line)["job_id"])
        return None

    interrupted = wait_for(started_on_worker1, 60, "worker1 to start a job", lab)
    w1.kill("worker")  # the whole worker host's process group, inside the job

    def all_done() -> dict[str, Any] | None:
        snap = asker.ask("snapshot", database_url)
        states = [snap["jobs"].get(t, [None, None])[1] for t in task_ids]
        return snap if all(s == "SUCCESS" for s in states) else None

    snap = wait_for(all_done, 180, "every ingest job to succeed on the surviving worker", lab)
    assert snap["jobs"][interrupted][2] >= 2, "the interrupted job ran again on worker2"
    documents = [s for s in snap["snos"].values() if not s[2]]
    assert len(documents) == len(task_ids), "each posted document stored exactly once"
    assert len({s[3] for s in documents}) == len(task_ids)

    api.start("beat", [sys.executable, "-m", "cns.cli.service_cmd", "beat"], host_env(api, **urls))

    def rescored() -> dict[str, Any] | None:
        snap = asker.ask("snapshot", database_url)
        rescore = [j for j in snap["jobs"].values() if j[0] == "rescore" and j[1] == "SUCCESS"]
        syntheses = [j for j in snap["jobs"].values() if j[0] == "synthesize"]
        settled = rescore and len(syntheses) >= len(reference["pairs"])
        return snap if settled and all(j[1] in ("SUCCESS", "FAILURE") for j in syntheses) else None

    snap = wait_for(rescored, 180, "beat's re-score and the syntheses it scheduled", lab)
    remote = documents_and_pairs(snap["snos"], snap["pairs"])
    assert remote["docs"].keys() == reference["docs"].keys()
    for sno_id, (status, trust) in reference["docs"].items():
        assert remote["docs"][sno_id][0] == status, sno_id
        assert remote["docs"][sno_id][1] == pytest.approx(trust, abs=1e-5), sno_id
    assert remote["pairs"].keys() == reference["pairs"].keys()
    for pair_id, scores in reference["pairs"].items():
        assert remote["pairs"][pair_id][2:5] == pytest.approx(scores[2:5], abs=1e-5), pair_id

    # the isolation held while all this ran: from a worker host, the API host's directory (which
    # does hold files) is empty, and the client's corpus was never on any service host
    assert (api.directory / "api.log").stat().st_size > 0
    seen = w2.run(["ls", "-A", str(api.directory), str(client.directory)], host_env(w2))
    assert seen.split() == [f"{api.directory}:", f"{client.directory}:"], f"worker2 sees: {seen!r}"
