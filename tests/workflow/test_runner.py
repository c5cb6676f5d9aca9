from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cns.config import CNSConfig
from cns.services.runtime import build_runtime
from cns.workflow.runner import AsyncRunner, Priority, ProcessingTask

DOCS = {
    "a.txt": "Drift. By A.\n\nWe argue that continents drift because the sea floor spreads [1].\n\nReferences\n"
    "[1] Vine & Matthews (1963). doi:10.1038/199947a0\n",
    "b.txt": "Fixed. By B.\n\nWe argue that continents do not drift, because no force moves them [1].\n\n"
    "References\n[1] Vine & Matthews (1963). https://doi.org/10.1038/199947A0\n",
}


def test_tasks_are_ordered_by_priority_then_submission() -> None:
    tasks = [
        ProcessingTask(int(Priority.INGEST), 0, "i0", "ingest"),
        ProcessingTask(int(Priority.SYNTHESIZE), 1, "s1", "synthesize"),
        ProcessingTask(int(Priority.INGEST), 2, "i2", "ingest"),
    ]
    assert [t.task_id for t in sorted(tasks)] == ["s1", "i0", "i2"]


def test_runner_ingests_queued_documents_and_shuts_down_once(tmp_path: Path, fake_config: CNSConfig) -> None:
    rt = build_runtime(fake_config.model_copy(update={"data_dir": tmp_path}), "cli")
    closed: list[bool] = []

    def close() -> None:
        closed.append(True)
        rt.close()

    runner = AsyncRunner(rt.manager, synthesis_interval=0.2, metrics_interval=0.2, on_shutdown=close)
    for name, text in DOCS.items():
        runner.submit_document(text, name)
    final = asyncio.run(runner.run(duration=3.0, install_signal_handlers=False))
    # the two documents, then the synthesis of the chiral pair they form (same DOI, opposite claims)
    assert final["processed"] == 2 + final["successful_syntheses"] + final["failed_syntheses"]
    assert final["total_snos"] >= 2 and final["failed"] == 0 and final["queue_size"] == 0
    assert closed == [True] and (tmp_path / "index" / "reference.faiss").is_file()
    reopened = build_runtime(fake_config.model_copy(update={"data_dir": tmp_path}), "cli")
    try:
        assert len([s for s in reopened.store.list() if "parent_ids" not in s.metadata]) == 2
    finally:
        reopened.close()


def test_cns_loop_stops_gracefully_on_sigterm(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    env = {**os.environ, "CNS_MODELS__EMBEDDING_BACKEND": "fake", "CNS_MODELS__NLI_BACKEND": "fake"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cns", "loop", str(folder), "--data-dir", str(tmp_path / "data"),
         "--synthesis-interval", "0.5", "--metrics-interval", "0.5"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.time() + 60
    index = tmp_path / "data" / "index" / "reference.faiss"
    while time.time() < deadline and not (tmp_path / "data" / "cns.sqlite3").exists():
        time.sleep(0.2)
    time.sleep(3.0)
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("cns loop did not stop after SIGTERM")
    assert proc.returncode == 0, err
    text = " ".join(err.split())
    assert "stopped: processed" in text and "population 2" in text and "still queued 0" in text
    assert index.is_file()


def test_loop_rescores_the_grown_population_before_searching_pairs(
    tmp_path: Path, fake_config: CNSConfig
) -> None:
    """``cns loop`` walks the lifecycle like ``cns run`` and the service: re-score, then pairs."""
    from cns.workflow.lifecycle import RESCORE_MARKER

    rt = build_runtime(fake_config.model_copy(update={"data_dir": tmp_path}), "cli")
    try:
        runner = AsyncRunner(rt.manager, synthesis_interval=0.2, metrics_interval=10.0)
        for name, text in DOCS.items():
            runner.submit_document(text, name)
        asyncio.run(runner.run(duration=2.0, install_signal_handlers=False))
        assert rt.store.read_marker(RESCORE_MARKER) == 2  # re-scored once both documents were in
        assert rt.store.list_pairs(), "the pair search ran after the re-score and recorded the pair"
    finally:
        rt.close()


def test_loop_searches_again_only_when_the_pairing_population_changed(
    tmp_path: Path, fake_config: CNSConfig
) -> None:
    """Scans every 0.1 s for 2.5 s: the search runs when a narrative arrives or its trust changes,
    the other scans reuse its result (no model work, no progress line), and the pair is found."""
    from cns.core.progress import PAIR_EVIDENCE

    rt = build_runtime(fake_config.model_copy(update={"data_dir": tmp_path}), "cli")
    starts: list[int] = []

    def progress(step: str, done: int, total: int | None) -> None:
        if step == PAIR_EVIDENCE and done == 0:
            starts.append(done)

    try:
        runner = AsyncRunner(rt.manager, synthesis_interval=0.1, metrics_interval=10.0, progress=progress)
        for name, text in DOCS.items():
            runner.submit_document(text, name)
        asyncio.run(runner.run(duration=2.5, install_signal_handlers=False))
        assert rt.store.list_pairs(), "the pair of the two documents was found and recorded"
        assert 1 <= len(starts) <= 3, starts  # both documents in, then after a re-score or a synthesis
        assert runner.searches_skipped >= 5, runner.searches_skipped
    finally:
        rt.close()


def test_population_fingerprint_follows_what_the_pair_search_sees(fake_config: CNSConfig) -> None:
    from cns.workflow.lifecycle import population_fingerprint
    from cns.workflow.manager import CNSWorkflowManager

    manager = CNSWorkflowManager(fake_config)
    first = manager.ingest_and_evaluate(DOCS["a.txt"], "a.txt")
    one = population_fingerprint(manager)
    assert population_fingerprint(manager) == one  # nothing changed
    manager.ingest_and_evaluate(DOCS["b.txt"], "b.txt")
    two = population_fingerprint(manager)
    assert two != one
    first.trust_score = (first.trust_score or 0.0) + 0.01
    manager.store.put(first)
    assert population_fingerprint(manager) not in (one, two)  # a re-score moved a trust
