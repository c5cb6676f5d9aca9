from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cns.cli.main import app

runner = CliRunner()
DOC_A = (
    "Continents drift. By A. Author\n\nWe argue that continents drift across the mantle because the sea floor "
    "spreads from mid-ocean ridges (Vine and Matthews, 1963). Magnetic stripes are symmetric about the "
    "ridges [1]. Therefore the ocean floor is young.\n\nReferences\n[1] Vine, F. J. & Matthews, D. H. (1963). "
    "Magnetic anomalies over oceanic ridges. Nature 199, 947-949. doi:10.1038/199947a0\n"
)
DOC_B = (
    "Fixed continents. By B. Author\n\nWe argue that the continents are fixed in place because no force can "
    "move them. However, the magnetic stripes of Vine and Matthews [1] could arise from reversals in place. "
    "Thus drift is not required.\n\nReferences\n[1] Vine & Matthews (1963). Nature 199, 947. "
    "https://doi.org/10.1038/199947A0\n"
)


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CNS_MODELS__EMBEDDING_BACKEND", "fake")
    monkeypatch.setenv("CNS_MODELS__NLI_BACKEND", "fake")
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text(DOC_A, encoding="utf-8")
    (folder / "b.txt").write_text(DOC_B, encoding="utf-8")
    (folder / "empty.txt").write_text("", encoding="utf-8")
    return folder


def test_ingest_show_export_delete_stats(corpus: Path, tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    result = runner.invoke(app, ["ingest", str(corpus), *data])
    assert result.exit_code == 0, result.output
    assert "ingested 2" in result.output and "skipped 1" in result.output and "empty.txt" in result.output
    again = runner.invoke(app, ["ingest", str(corpus), *data])
    assert "ingested 0" in again.output and "duplicates 2" in again.output

    out = tmp_path / "export"
    exported = runner.invoke(app, ["export", "--out", str(out), *data])
    assert exported.exit_code == 0, exported.output
    rows = [json.loads(line) for line in (out / "snos.jsonl").read_text().splitlines()]
    assert len(rows) == 2 and len(list((out / "graphs").glob("*.graphml"))) == 2
    assert len(list((out / "graphs").glob("*.mmd"))) == 2

    sno_id = rows[0]["sno_id"]
    shown = runner.invoke(app, ["show", sno_id[:10], *data])
    assert shown.exit_code == 0 and rows[0]["central_hypothesis"][:30] in " ".join(shown.output.split())
    assert runner.invoke(app, ["show", "zzzz", *data]).exit_code != 0

    document_id = rows[0]["metadata"]["document_id"]
    deleted = runner.invoke(app, ["delete", document_id, *data])
    assert deleted.exit_code == 0 and "1 SNOs" in deleted.output
    assert runner.invoke(app, ["delete", document_id, *data]).exit_code == 1
    stats = runner.invoke(app, ["stats", *data])
    assert stats.exit_code == 0
    assert " documents " in stats.output.replace("│", " ") and "snos_active" in stats.output
