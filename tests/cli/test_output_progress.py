"""Progress with an ETA, and what --quiet, --verbose and --log-format json leave on stderr."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from cns.cli.main import app
from cns.cli.output import Output, Verbosity
from cns.cli.progress import EtaColumn, ProgressDisplay, RateColumn
from cns.core.progress import INGEST, SYNTHESIS
from tests.cli.test_store_cmd import DOC_A, DOC_B

runner = CliRunner()


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def display(*, terminal: bool, json_lines: bool = False, verbosity: Verbosity = Verbosity.NORMAL):
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=terminal, width=120)
    clock = Clock()
    shown = ProgressDisplay(Output(json=json_lines, verbosity=verbosity, console=console), get_time=clock)
    return shown, clock, stream


def test_a_multi_item_step_reports_its_eta_from_the_pace_so_far() -> None:
    shown, clock, _ = display(terminal=True)
    shown(SYNTHESIS, 0, 4)
    assert shown.eta(SYNTHESIS) is None  # nothing done yet: no pace to go on
    clock.now = 10.0
    shown(SYNTHESIS, 1, 4)
    assert shown.eta(SYNTHESIS) == pytest.approx(30.0)
    clock.now = 20.0
    shown(SYNTHESIS, 2, 4)
    assert shown.eta(SYNTHESIS) == pytest.approx(20.0)
    task = shown.progress.tasks[0]
    assert EtaColumn().render(task).plain == "ETA 0:00:20"
    assert RateColumn().render(task).plain == "0.10 pairs/s"
    clock.now = 40.0
    shown(SYNTHESIS, 4, 4)
    clock.now = 100.0  # a finished step keeps its own time and rate
    assert shown.eta(SYNTHESIS) == 0.0
    assert RateColumn().render(shown.progress.tasks[0]).plain == "0.10 pairs/s"
    assert EtaColumn().render(shown.progress.tasks[0]).plain == "ETA 0:00:00"


def test_a_step_that_runs_again_gets_a_fresh_bar() -> None:
    shown, clock, _ = display(terminal=True)
    shown(INGEST, 0, 2)
    clock.now = 4.0
    shown(INGEST, 2, 2)
    clock.now = 50.0
    shown(INGEST, 0, 3)  # `cns loop`: more documents queued later
    clock.now = 53.0
    shown(INGEST, 1, 3)
    assert len(shown.progress.tasks) == 1
    assert shown.eta(INGEST) == pytest.approx(6.0)  # 3 s for the first of three, not 53 s


def test_without_a_terminal_a_finished_step_is_one_line_and_in_json_one_record() -> None:
    shown, clock, stream = display(terminal=False)
    shown(SYNTHESIS, 0, 2)
    clock.now = 65.0
    shown(SYNTHESIS, 2, 2)
    assert stream.getvalue() == "  synthesis: 2 pairs in 0:01:05\n"

    shown, clock, stream = display(terminal=False, json_lines=True)
    shown(SYNTHESIS, 0, 1)
    clock.now = 2.5
    shown(SYNTHESIS, 1, 1)
    record = json.loads(stream.getvalue())
    assert (record["event"], record["step"], record["done"], record["seconds"]) == (
        "progress.step_done", "synthesis", 1, 2.5
    )  # fmt: skip

    shown, clock, stream = display(terminal=True, verbosity=Verbosity.QUIET)
    shown(SYNTHESIS, 0, 1)
    shown(SYNTHESIS, 1, 1)
    assert not shown.live and stream.getvalue() == ""


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CNS_MODELS__EMBEDDING_BACKEND", "fake")
    monkeypatch.setenv("CNS_MODELS__NLI_BACKEND", "fake")
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text(DOC_A, encoding="utf-8")
    (folder / "b.txt").write_text(DOC_B, encoding="utf-8")
    (folder / "notes.json").write_text("{}", encoding="utf-8")  # skipped: not a document
    return folder


def run(tmp_path: Path, corpus: Path, *options: str) -> tuple[int, str, str]:
    args = [
        *options,
        "run",
        str(corpus),
        "--out",
        str(tmp_path / "out"),
        "--data-dir",
        str(tmp_path / "data"),
    ]
    result = runner.invoke(app, args)
    return result.exit_code, result.stdout, result.stderr


def test_normal_output_lists_documents_skipped_files_and_finished_steps(tmp_path: Path, corpus: Path) -> None:
    code, stdout, stderr = run(tmp_path, corpus)
    assert code == 0, stderr
    assert stdout == ""  # everything about how a run went is on stderr
    assert "a.md" in stderr and "skipped" in stderr and "notes.json" in stderr
    assert "  ingest: 2 docs in " in stderr and "  re-score: 2 narratives in " in stderr
    assert "timings (s):" in stderr


def test_quiet_prints_only_the_summary_and_the_outputs(tmp_path: Path, corpus: Path) -> None:
    code, stdout, stderr = run(tmp_path, corpus, "--quiet")
    assert stdout == ""
    assert code == 0, stderr
    lines = stderr.splitlines()
    assert lines[0].startswith("ingested 2 (admitted ") and "skipped 1" in lines[0]
    assert lines[1].startswith("pairs ") and lines[2].startswith("wrote ")
    assert len(lines) == 3, stderr  # no progress, no per-document, skipped or timing line
    assert (tmp_path / "out" / "report.html").is_file()


def test_quiet_still_prints_errors(tmp_path: Path, corpus: Path) -> None:
    result = runner.invoke(app, ["-q", "show", "ffff", "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 1 and "error:" in result.stderr


def test_verbose_adds_debug_log_lines(tmp_path: Path, corpus: Path) -> None:
    result = runner.invoke(app, ["--verbose", "ingest", str(corpus), "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 0, result.stderr
    debug = [line for line in result.stderr.splitlines() if "[debug" in line]
    assert any("sno_ingestion.text" in line for line in debug), result.stderr
    quiet = runner.invoke(app, ["ingest", str(corpus), "--data-dir", str(tmp_path / "data2")])
    assert "[debug" not in quiet.stderr


def test_json_log_format_keeps_every_stderr_line_json(tmp_path: Path, corpus: Path) -> None:
    code, stdout, stderr = run(tmp_path, corpus, "--log-format", "json", "--verbose")
    assert code == 0, stderr
    records = [json.loads(line) for line in stderr.splitlines()]  # fails on any line that is not JSON
    events = {r["event"] for r in records}
    assert {"ingest.document", "ingest.skipped", "ingest.summary", "run.summary", "outputs.written"} <= events
    assert {"progress.step_done", "sno_ingestion.text"} <= events  # steps and debug logs, as JSON
    assert all({"level", "timestamp"} <= r.keys() for r in records)
    summary = next(r for r in records if r["event"] == "ingest.summary")
    assert (summary["ingested"], summary["skipped"]) == (2, 1)
    assert stdout == ""


def test_quiet_and_verbose_together_are_refused(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--quiet", "--verbose", "stats", "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 2 and "cannot be used together" in result.stderr
    result = runner.invoke(app, ["--quiet", "--log-level", "INFO", "stats"])
    assert result.exit_code == 2 and "--log-level cannot be used with" in result.stderr
