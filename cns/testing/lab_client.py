"""The multi-host test's client: runs *inside* a lab host and prints JSON for the test to read.

The test process lives outside the lab's network, so it asks this program, started on the lab's
client host, to talk to the API and to read the shared database:

    python -m cns.testing.lab_client post API_URL CORPUS_DIR    -> {"task_ids": [...]}
    python -m cns.testing.lab_client snapshot DATABASE_URL      -> jobs, SNOs and pairs
    python -m cns.testing.lab_client serve                      -> one answer per command line read

``serve`` stays running and answers each line on its standard input (``post API_URL CORPUS_DIR``
or ``snapshot DATABASE_URL``) with one JSON line, so a test that polls the database pays for
starting Python (seconds of CPU on a small machine, taken from the workers it is waiting for)
once instead of at every look.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import httpx

from cns.ingestion.loaders import load_path
from cns.store.sql import SQLStore


def post(api_url: str, corpus: Path) -> dict[str, Any]:
    task_ids = []
    with httpx.Client(base_url=api_url, timeout=30) as client:
        for document in load_path(corpus).documents:
            body = {"source": document.source, "text": document.text, "metadata": document.metadata}
            response = client.post("/ingest", json=body)
            if response.status_code != 202:
                raise SystemExit(f"POST /ingest answered {response.status_code}: {response.text}")
            task_ids.append(response.json()["task_id"])
    return {"task_ids": task_ids}


def snapshot(database_url: str) -> dict[str, Any]:
    """Jobs by id, SNOs (status, trust, synthesis or not) and pairs (members, scores, source)."""
    with SQLStore.open(database_url) as store:
        jobs = {j.job_id: [j.kind, j.state.value, j.attempts] for j in store.list_jobs()}
        snos = {
            s.sno_id: [s.status.value, s.trust_score, "parent_ids" in s.metadata, s.metadata.get("source")]
            for s in store.list()
        }
        pairs = {
            p.pair_id: [p.sno_a, p.sno_b, p.chirality, p.entanglement, p.potential, p.source]
            for p in store.list_pairs()
        }
    return {"jobs": jobs, "snos": snos, "pairs": pairs}


def answer(command: str, args: list[str]) -> dict[str, Any]:
    if command == "post":
        return post(args[0], Path(args[1]))
    if command == "snapshot":
        return snapshot(args[0])
    raise SystemExit(f"unknown command {command!r}")


def serve() -> None:
    """Answer each command line on standard input with one JSON line, until the input closes."""
    for line in sys.stdin:
        command, *args = line.split()
        sys.stdout.write(json.dumps(answer(command, args)) + "\n")
        sys.stdout.flush()


def main(argv: list[str]) -> int:
    command, *args = argv
    if command == "serve":
        serve()
        return 0
    out = answer(command, args)
    sys.stdout.write(json.dumps(out) + "\n")  # the last line: the test reads it after any log lines
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
