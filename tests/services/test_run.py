from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cns.cli.main import app
from tests.services.run_corpus import TEXTS, write_corpus

FAKES = {"CNS_MODELS__EMBEDDING_BACKEND": "fake", "CNS_MODELS__NLI_BACKEND": "fake"}


@pytest.fixture
def fake_models(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in FAKES.items():
        monkeypatch.setenv(key, value)


def run(corpus: Path, out: Path, data: Path) -> str:
    result = CliRunner().invoke(app, ["run", str(corpus), "--out", str(out), "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def test_run_writes_report_and_outputs_and_rerun_reuses_everything(fake_models: None, tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "docs")
    out, data = tmp_path / "out", tmp_path / "data"
    first = run(corpus, out, data)
    assert "ingested 4" in first and "skipped 1" in first
    snos = [json.loads(line) for line in (out / "snos.jsonl").read_text().splitlines()]
    pairs = [json.loads(line) for line in (out / "pairs.jsonl").read_text().splitlines()]
    assert len([s for s in snos if "parent_ids" not in s["metadata"]]) == 4
    assert pairs, "the two debates share a DOI each and oppose each other: at least one chiral pair"
    assert all(p["shared_evidence"] for p in pairs)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="pair-count">' in html and "data:image/png;base64," in html
    assert len(list((out / "graphs").glob("*.graphml"))) == len(snos)

    second = run(corpus, out, data)
    assert "ingested 0" in second and "duplicates 4" in second
    assert "syntheses attempted 0" in second  # every pair is in its synthesis cooldown
    again = [json.loads(line) for line in (out / "pairs.jsonl").read_text().splitlines()]
    assert [p["synthesis_sno_id"] for p in again] == [p["synthesis_sno_id"] for p in pairs]


def test_killed_run_resumes_without_duplicates(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "docs")
    data = tmp_path / "data"
    env = {**os.environ, **FAKES, "CNS_MODELS__NLI_BACKEND": "fake-slow", "CNS_FAKE_NLI_DELAY_SECONDS": "0.4"}
    cmd = [
        sys.executable,
        "-m",
        "cns",
        "run",
        str(corpus),
        "--out",
        str(tmp_path / "out"),
        "--data-dir",
        str(data),
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stored() -> int:
        try:
            with sqlite3.connect(data / "cns.sqlite3") as conn:
                return int(conn.execute("SELECT count(*) FROM snos").fetchone()[0])
        except sqlite3.Error:
            return 0

    deadline = time.time() + 90
    while time.time() < deadline and stored() < 1:
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    partial = stored()
    assert 1 <= partial < len(TEXTS), "the kill must land mid-batch"
    env.pop("CNS_FAKE_NLI_DELAY_SECONDS")
    finished = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert f"duplicates {partial}" in " ".join(finished.stderr.split())
    with sqlite3.connect(data / "cns.sqlite3") as conn:
        documents = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
        per_document = conn.execute(
            "SELECT document_id, count(*) FROM snos WHERE document_id IS NOT NULL GROUP BY document_id"
        ).fetchall()
    assert documents == len(TEXTS) and len(per_document) == len(TEXTS)
    assert all(count == 1 for _, count in per_document)


def test_report_renders_in_headless_chromium(fake_models: None, tmp_path: Path) -> None:
    chromium = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if Path(p).exists()), None)
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (.ci/run installs it)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    out = tmp_path / "out"
    run(write_corpus(tmp_path / "docs"), out, tmp_path / "data")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000"]  # fmt: skip
    page = (out / "report.html").as_uri()
    dom = subprocess.run([chromium, *flags, "--dump-dom", page], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert 'data-plots="rendered"' in dom.stdout, "every plot image must decode in the browser"
    assert 'class="pair"' in dom.stdout and "<svg" in dom.stdout
    assert 'id="how-to-read-text"' in dom.stdout and 'id="legend"' in dom.stdout
    assert dom.stdout.count('class="near-miss-rule"') == 7 and 'data-images="3"' in dom.stdout
    shot = tmp_path / "report.png"
    subprocess.run([chromium, *flags, f"--screenshot={shot}", "--window-size=1200,2000", page],
                   capture_output=True, timeout=120, check=True)  # fmt: skip
    assert shot.stat().st_size > 20_000


def test_pairs_and_synthesize_commands(fake_models: None, tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "docs")
    data = ["--data-dir", str(tmp_path / "data")]
    assert CliRunner().invoke(app, ["ingest", str(corpus), *data]).exit_code == 0
    listed = CliRunner().invoke(app, ["pairs", *data])
    assert listed.exit_code == 0, listed.output
    assert "chiral pairs in a population of 4" in " ".join(listed.output.split())
    pair_id = next(
        line.split()[1] for line in listed.output.splitlines() if line.startswith("│") and "0." in line
    )
    first = CliRunner().invoke(app, ["synthesize", pair_id, *data])
    assert first.exit_code == 0 and ("accepted" in first.output or "rejected" in first.output), first.output
    again = CliRunner().invoke(app, ["synthesize", pair_id, *data])
    assert "skipped" in again.output and "cooldown" in " ".join(again.output.split())
    forced = CliRunner().invoke(app, ["synthesize", pair_id, "--force", *data])
    assert "skipped" not in forced.output
    assert CliRunner().invoke(app, ["synthesize", "zzzz", *data]).exit_code == 1
