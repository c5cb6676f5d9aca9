"""``cns report`` and ``cns export``: the output folder of a run, rebuilt from the local store."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cns.cli.main import app
from cns.store.sql import SQLStore
from tests.cli.test_ids_pairs_why import cns, fakes, ingested  # noqa: F401 - pytest fixtures


def test_report_rebuilds_the_run_outputs_from_the_store(
    ingested: tuple[list[str], Path],  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    data, data_dir = ingested
    rows = json.loads(CliRunner().invoke(app, ["pairs", "--json", *data]).stdout)
    assert rows, "the corpus should give at least one pair"
    code, out = cns("synthesize", rows[0]["pair_id"], *data)
    assert code == 0, out
    with SQLStore.open(data_dir / "cns.sqlite3") as store:
        stored = store.list()
        pair_ids = {p.pair_id for p in store.list_pairs()}
        attempts = sum(len(store.list_attempts(pair_id)) for pair_id in pair_ids)
        last = store.last_attempt(rows[0]["pair_id"])
    assert last is not None

    report_dir = tmp_path / "report"
    code, out = cns("report", "--data-dir", str(data_dir), "--out", str(report_dir))
    assert code == 0, out
    assert f"wrote {len(stored)} SNOs, {len(pair_ids)} pairs" in out, out
    snos = [json.loads(line) for line in (report_dir / "snos.jsonl").read_text().splitlines()]
    assert {s["sno_id"] for s in snos} == {s.sno_id for s in stored}
    pairs = [json.loads(line) for line in (report_dir / "pairs.jsonl").read_text().splitlines()]
    assert {p["pair_id"] for p in pairs} == pair_ids
    synthesized = next(p for p in pairs if p["pair_id"] == rows[0]["pair_id"])
    assert synthesized["file_a"] == rows[0]["file_a"] and synthesized["file_b"] == rows[0]["file_b"]
    assert synthesized["synthesis_sno_id"] == last.result_sno_id
    assert synthesized["synthesis_accepted"] is (last.accepted is True)
    assert synthesized["synthesis_reasons"] == [str(r) for r in last.reasons]
    if last.result_sno_id is not None:
        assert synthesized["synthesis"]["hypothesis"] in html_text(report_dir)
    html = html_text(report_dir)
    assert Path(rows[0]["file_a"]).name in html and Path(rows[0]["file_b"]).name in html
    assert len(list((report_dir / "graphs").glob("*.graphml"))) == len(stored)
    with SQLStore.open(data_dir / "cns.sqlite3") as store:  # nothing was re-run
        assert {p.pair_id for p in store.list_pairs()} == pair_ids
        assert sum(len(store.list_attempts(pair_id)) for pair_id in pair_ids) == attempts

    export_dir = tmp_path / "export"
    code, out = cns("export", "--data-dir", str(data_dir), "--out", str(export_dir))
    assert code == 0 and not (export_dir / "report.html").exists(), out
    assert (export_dir / "pairs.jsonl").read_text() == (report_dir / "pairs.jsonl").read_text()
    assert (export_dir / "snos.jsonl").read_text() == (report_dir / "snos.jsonl").read_text()


def test_report_of_an_empty_store_is_an_empty_report(fakes: None, tmp_path: Path) -> None:  # noqa: F811
    code, out = cns("report", "--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "out"))
    assert code == 0 and "wrote 0 SNOs, 0 pairs and 0 graphs" in out, out
    assert (tmp_path / "out" / "report.html").is_file()
    assert (tmp_path / "out" / "pairs.jsonl").read_text() == ""


def html_text(folder: Path) -> str:
    import html

    return html.unescape((folder / "report.html").read_text())
