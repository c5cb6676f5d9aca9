"""Ids, pairs and explanations at the command line, as a new user meets them.

Before: `cns delete` wanted all 64 hex digits of an id no command printed, `cns show` left out
the source file, `cns pairs` had no filter or JSON, and nothing said why two documents were
not paired.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cns.cli.main import app
from cns.core.sno import StructuredNarrativeObject
from cns.store.sql import SQLStore
from tests.services.run_corpus import write_corpus

FAKES = {"CNS_MODELS__EMBEDDING_BACKEND": "fake", "CNS_MODELS__NLI_BACKEND": "fake"}
ZOOS = {
    "zoos-close.txt": "Zoos should close\n\nWe argue that zoos should be abolished because captive animals suffer "
    "in small enclosures. Captive animals show stress behaviour in small enclosures. Therefore zoos should be "
    "abolished.\n",
    "zoos-stay.txt": "Zoos should stay\n\nWe argue that zoos should not be abolished because captive animals are "
    "protected in enclosures. Captive animals live longer in protected enclosures. Therefore zoos should not be "
    "abolished.\n",
}


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in FAKES.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("COLUMNS", "400")  # long temporary paths stay on one line


def cns(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, " ".join(result.output.split())


def verdict(*args: str) -> str:
    """The first line ``cns why`` prints on stdout (its progress lines go to stderr)."""
    result = CliRunner().invoke(app, ["why", *args])
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()[0]


@pytest.fixture
def ingested(fakes: None, tmp_path: Path) -> tuple[list[str], Path]:
    data = tmp_path / "data"
    code, out = cns("ingest", str(write_corpus(tmp_path / "docs")), "--data-dir", str(data))
    assert code == 0, out
    return ["--data-dir", str(data)], data


def stored_ids(data: Path) -> dict[str, tuple[str, str]]:
    """file name → (SNO id, document id)."""
    with SQLStore.open(data / "cns.sqlite3") as store:
        return {
            Path(str(s.metadata["source"])).name: (
                s.sno_id,
                store.ids_with_prefix("sno", s.sno_id)[0].document_id or "",
            )
            for s in store.list()
        }


def test_ingest_prints_ids_next_to_file_names(fakes: None, tmp_path: Path) -> None:
    code, out = cns("ingest", str(write_corpus(tmp_path / "docs")), "--data-dir", str(tmp_path / "data"))
    assert code == 0, out
    for name, (sno_id, _) in stored_ids(tmp_path / "data").items():
        assert f"{sno_id[:12]} {tmp_path / 'docs' / name}" in out


def test_show_accepts_sno_and_document_prefixes_and_file_names(ingested: tuple[list[str], Path]) -> None:
    data, folder = ingested
    sno_id, document_id = stored_ids(folder)["drift.md"]
    for ref in (sno_id[:6], document_id[:8], "drift.md"):
        code, out = cns("show", ref, *data)
        assert code == 0, (ref, out)
        assert f"SNO {sno_id}" in out and "file " in out and "docs/drift.md" in out
        assert f"document {document_id}" in out


def test_an_ambiguous_prefix_lists_the_candidates_with_their_files(ingested: tuple[list[str], Path]) -> None:
    data, folder = ingested
    with SQLStore.open(folder / "cns.sqlite3") as store:
        for sno_id, source in (
            ("abc1" + "0" * 28, "notes/first [draft].txt"),
            ("abc2" + "0" * 28, "notes/second.txt"),
        ):
            sno = StructuredNarrativeObject(f"Narrative {sno_id[:4]} argues.", sno_id=sno_id)
            sno.metadata["source"] = source
            store.put(sno)
    code, out = cns("show", "abc", *data)
    assert code == 1 and "SNO id prefix 'abc' is ambiguous" in out and "give more characters" in out, out
    assert "first [draft].txt" in out and "second.txt" in out  # file names, brackets not eaten by Rich
    code, out = cns("show", "abc2", *data)
    assert code == 0 and "notes/second.txt" in out
    code, out = cns("show", "zzzz", *data)
    assert code == 1 and "no stored SNO has an id starting with 'zzzz'" in out
    assert "Traceback" not in out


def test_delete_takes_a_document_or_sno_prefix_and_names_the_file(ingested: tuple[list[str], Path]) -> None:
    data, folder = ingested
    ids = stored_ids(folder)
    code, out = cns("delete", ids["waves.txt"][1][:10], *data)
    assert code == 0 and f"deleted document {ids['waves.txt'][1]} (waves.txt)" in out, out
    code, out = cns("delete", ids["particles.txt"][0][:8], *data)  # the SNO's id: its document goes
    assert code == 0 and "(particles.txt)" in out, out
    code, out = cns("delete", ids["waves.txt"][1][:10], *data)
    assert code == 1 and "no stored document has an id starting with" in out


def test_pairs_filters_and_prints_json_with_pair_ids_that_synthesize_accepts(
    ingested: tuple[list[str], Path],
) -> None:
    data, _ = ingested
    code, out = cns("pairs", *data)
    assert code == 0 and "file A" in out and "drift.md" in out and "fixed.txt" in out, out
    result = CliRunner().invoke(app, ["pairs", "--json", *data])
    rows = json.loads(result.stdout)
    assert rows and all(r["pair_id"] and r["file_a"] and r["file_b"] and r["hypothesis_a"] for r in rows)
    best = max(r["chirality"] for r in rows)
    top = json.loads(CliRunner().invoke(app, ["pairs", "--json", "--top", "1", *data]).stdout)
    assert len(top) == 1
    over = json.loads(
        CliRunner().invoke(app, ["pairs", "--json", "--min-chirality", str(best + 0.001), *data]).stdout
    )
    assert over == []
    code, out = cns("synthesize", rows[0]["pair_id"][:6], *data)
    assert code == 0 and ("accepted" in out or "rejected" in out) and Path(rows[0]["file_a"]).name in out, out
    code, out = cns("synthesize", "zzzz", *data)
    assert code == 1 and "no stored pair has an id starting with 'zzzz'" in out


def test_why_explains_a_pair_and_a_pair_that_was_not_made(ingested: tuple[list[str], Path]) -> None:
    data, _ = ingested
    code, out = cns("why", "drift.md", "fixed.txt", *data)
    assert code == 0 and verdict("drift.md", "fixed.txt", *data) == "paired", out
    assert "shared evidence (1" in out and "key: doi:10.1038/199947a0" in out
    assert "pass opposition" in out and "pass chirality" in out and "pass potential" in out
    result = CliRunner().invoke(app, ["why", "drift.md", "waves.txt", "--json", *data])
    explained = json.loads(result.stdout)
    assert explained["paired"] is False and explained["stopped_by"] == "opposition"
    assert explained["setting"] == "synthesis_thresholds.opposition"
    assert explained["verdict"].startswith("not paired: stopped by opposition")
    assert {c["name"] for c in explained["checks"]} >= {"opposition", "chirality"}
    assert explained["a"]["file"].endswith(("drift.md", "waves.txt")) and explained["shared_evidence"] == []
    assert "gate" in explained["opposition_parts"]
    code, out = cns("why", "drift.md", "drift.md", *data)
    assert code == 1 and "same narrative" in out


def test_why_reports_the_progress_of_its_pair_search(ingested: tuple[list[str], Path]) -> None:
    """The search behind ``cns why`` is the one behind ``cns pairs`` (minutes on a large
    population): its steps are reported the same way, on stderr, so stdout stays the explanation."""
    data, _ = ingested
    result = CliRunner().invoke(
        app, ["--log-format", "json", "why", "drift.md", "fixed.txt", "--json", *data]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["paired"] is True
    records = [json.loads(line) for line in result.stderr.splitlines()]
    steps = {r["step"] for r in records if r["event"] == "progress.step_done"}
    assert {"pairs: shared-evidence candidates", "pairs: topic-neighbour candidates"} <= steps, records


def test_topic_pairs_are_on_by_default_and_the_flag_turns_them_off(fakes: None, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in ZOOS.items():
        (docs / name).write_text(text, encoding="utf-8")
    data = ["--data-dir", str(tmp_path / "data")]
    assert cns("ingest", str(docs), *data)[0] == 0
    on = json.loads(CliRunner().invoke(app, ["pairs", "--json", *data]).stdout)
    assert [r["source"] for r in on] == ["opposition"]  # no shared citation: found as topic neighbours
    assert on[0]["entanglement"] == 0.0 and on[0]["chirality"] > 0
    off = json.loads(CliRunner().invoke(app, ["pairs", "--json", "--no-topic-pairs", *data]).stdout)
    assert off == []
    code, out = cns("why", "zoos-close.txt", "zoos-stay.txt", "--no-topic-pairs", *data)
    assert code == 0 and "not paired: they share no evidence" in out and "--topic-pairs turns it on" in out
    code, out = cns("why", "zoos-close.txt", "zoos-stay.txt", *data)
    assert code == 0 and "found by topic neighbours" in out, out
    assert verdict("zoos-close.txt", "zoos-stay.txt", *data) == "paired"
