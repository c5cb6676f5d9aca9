from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cns import __version__
from cns.cli.main import app
from tests.conftest import make_sno

runner = CliRunner()


def sno_file(tmp_path: Path) -> Path:
    a = make_sno(
        "Continents drift across the mantle.",
        ["Fossils match across oceans."],
        [("Fossils match across oceans.", "doi:10.1/a")],
        sno_id="aaa111",
    )
    b = make_sno(
        "Continents are fixed in place.",
        ["Mountains form by vertical uplift."],
        [("Mountains form by vertical uplift.", "doi:10.1/b")],
        sno_id="bbb222",
    )
    path = tmp_path / "snos.jsonl"
    path.write_text("\n".join(json.dumps(s.to_dict()) for s in (a, b)) + "\n", encoding="utf-8")
    return path


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"cns {__version__}"


def test_config_show_lists_sources_and_hides_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNS_LLM__API_KEY", "sk-hidden")
    monkeypatch.setenv("CNS_EMBEDDING_DIM", "384")
    result = runner.invoke(app, ["config", "show"])
    assert result.exit_code == 0, result.output
    assert "env:CNS_EMBEDDING_DIM" in result.stdout and "sk-hidden" not in result.stdout
    as_json = runner.invoke(app, ["config", "show", "--format", "json"])
    assert json.loads(as_json.stdout)["llm"]["api_key"] == "**********"


def test_sno_validate_ok_and_invalid(tmp_path: Path) -> None:
    good = sno_file(tmp_path)
    assert runner.invoke(app, ["sno", "validate", str(good)]).exit_code == 0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"central_hypothesis": "", "reasoning_graph": {}}), encoding="utf-8")
    result = runner.invoke(app, ["sno", "validate", str(good), str(bad)])
    assert result.exit_code == 1 and "INVALID" in result.stdout and "central_hypothesis" in result.stdout
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    result = runner.invoke(app, ["sno", "validate", str(broken)])
    assert result.exit_code == 1 and "invalid JSON" in result.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"\xff\xfe{}", "not UTF-8"), (b"[" * 100_000 + b"]" * 100_000, "nested too deeply")],
    ids=["latin-1 bytes", "deep nesting"],
)
def test_sno_validate_reports_unreadable_files_without_a_traceback(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "odd.json"
    path.write_bytes(content)
    result = runner.invoke(app, ["sno", "validate", str(path)])
    assert result.exit_code == 1 and message in result.stdout, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_sno_show_draws_tree(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sno", "show", str(sno_file(tmp_path)), "--id", "aaa"])
    assert result.exit_code == 0, result.output
    assert "Continents drift" in result.stdout and "[supports] Fossils match" in result.stdout
    assert "Continents are fixed" not in result.stdout
    assert runner.invoke(app, ["sno", "show", str(sno_file(tmp_path)), "--id", "zzz"]).exit_code == 1


def test_sno_evaluate_with_fake_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CNS_MODELS__EMBEDDING_BACKEND", "fake")
    monkeypatch.setenv("CNS_MODELS__NLI_BACKEND", "fake")
    out = tmp_path / "evaluated.jsonl"
    result = runner.invoke(app, ["sno", "evaluate", str(sno_file(tmp_path)), "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 2
    for row in rows:
        assert 0 < row["trust_score"] <= 1
        assert set(row["evaluation"]["critic_results"]) == {"grounding", "logic", "novelty"}
        assert row["evaluation"]["models"]["nli"] == "fake:rule-nli@1"


def test_bracketed_text_and_file_names_are_printed_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rich reads ``[red]`` as a style and ``[[http://…]]`` as markup: both used to vanish from tables."""
    monkeypatch.setenv("CNS_MODELS__EMBEDDING_BACKEND", "fake")
    monkeypatch.setenv("CNS_MODELS__NLI_BACKEND", "fake")
    monkeypatch.setenv("COLUMNS", "300")
    sno = make_sno(
        "Tags failed [red] in trials [[http://example.org/x]].",
        ["Offenders breached them [bold]."],
        [("Offenders breached them.", "doi:10.1/a")],
        sno_id="ccc333",
    )
    sno.metadata["source"] = "notes/[draft] tags.txt"
    path = tmp_path / "[odd] snos.jsonl"
    path.write_text(json.dumps(sno.to_dict()) + "\n", encoding="utf-8")
    evaluated = runner.invoke(app, ["sno", "evaluate", str(path)])
    assert evaluated.exit_code == 0, evaluated.output
    assert "Tags failed [red] in trials [[http://example.org/x]]" in evaluated.stdout
    assert "[draft] tags.txt" in evaluated.stdout  # the file column
    validated = runner.invoke(app, ["sno", "validate", str(path)])
    assert "[odd] snos.jsonl" in validated.stdout and "notes/[draft] tags.txt" in validated.stdout
    shown = runner.invoke(app, ["sno", "show", str(path)])
    assert "[bold]" in shown.stdout and "file notes/[draft] tags.txt" in " ".join(shown.stdout.split())
