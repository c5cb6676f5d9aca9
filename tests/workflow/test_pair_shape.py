"""One pair shape: the API, ``cns export``, ``cns run``'s pairs.jsonl and the report say the same.

Before, four places each built their own dict (``shared`` here, ``shared_evidence`` there; no
``opposition`` or ``source`` once stored; conflict points as ids in one and texts in another).
"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cns.cli.main import app
from cns.config import CNSConfig
from cns.core.pair_json import PAIR_FIELDS
from cns.metrics.shared_facts import EvidenceMatch
from cns.pairs import ChiralPair, find_chiral_pairs
from cns.report import PairView, ReportData, render_report
from cns.store.sql import SQLStore
from cns.testing.fakes import RuleNLI
from cns.workflow.lifecycle import rebuild_pair, record_pairs
from tests.api.api_helpers import api_client
from tests.conftest import make_sno
from tests.services.run_corpus import write_corpus

#: what the rows of `cns run`'s and `cns export`'s pairs.jsonl add to the pair shape
SYNTHESIS_FIELDS = [
    "file_a",
    "file_b",
    "synthesis_sno_id",
    "synthesis_accepted",
    "synthesis_reasons",
    "synthesis",
]

FAKES = {"CNS_MODELS__EMBEDDING_BACKEND": "fake", "CNS_MODELS__NLI_BACKEND": "fake"}


def opposed_pair() -> ChiralPair:
    a = make_sno("coffee increases productivity", evidence=[("s", "doi:10.1/a")], trust=0.9, sno_id="a" * 32)
    b = make_sno("coffee decreases productivity", evidence=[("s", "doi:10.1/a")], trust=0.9, sno_id="b" * 32)
    [pair] = find_chiral_pairs([a, b], CNSConfig(), nli=RuleNLI())
    # what the opposition search and the fact matcher add, so the round trip has to keep them
    pair.opposition, pair.source = 0.75, "opposition"
    pair.evidence_matches.append(
        EvidenceMatch("fact", "doi:10.1/x", "doi:10.1/y", 0.9, "x", "y", True, False)
    )
    return pair


def test_a_stored_pair_is_the_pair_that_was_found(tmp_path: Path) -> None:
    pair = opposed_pair()
    with SQLStore.open(tmp_path / "s.sqlite3") as store:
        for sno in (pair.sno_a, pair.sno_b):
            store.put(sno)
        [record] = record_pairs(store, [pair])
        stored = record.to_dict()
        found = pair.to_dict()
        assert list(stored) == list(found) == list(PAIR_FIELDS)
        assert stored["found_at"] is not None and found["found_at"] is None
        assert {k: v for k, v in stored.items() if k != "found_at"} == {
            k: v for k, v in found.items() if k != "found_at"
        }
        assert stored["opposition"] == 0.75 and stored["source"] == "opposition"
        assert stored["evidence_matches"][-1]["b_is_source"] is False
        rebuilt = rebuild_pair(store, record.pair_id)
        assert rebuilt.to_dict() == found
        assert rebuilt.evidence_matches == pair.evidence_matches
        assert rebuilt.conflict_points == pair.conflict_points


def test_api_and_export_list_pairs_in_the_one_shape(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    pair = opposed_pair()
    with api_client(tmp_path) as (client, store, _):
        for sno in (pair.sno_a, pair.sno_b):
            store.put(sno)
        [record] = record_pairs(store, [pair])
        [item] = client.get("/pairs").json()["items"]
        # the pair shape, then both sides' files and hypotheses for a reader of the list
        assert list(item) == [*PAIR_FIELDS, "file_a", "hypothesis_a", "file_b", "hypothesis_b"]
        assert {k: item[k] for k in PAIR_FIELDS} == json.loads(json.dumps(record.to_dict()))
        assert (item["hypothesis_a"], item["hypothesis_b"]) == (
            pair.sno_a.central_hypothesis,
            pair.sno_b.central_hypothesis,
        )
    for key, value in FAKES.items():
        monkeypatch.setenv(key, value)
    out = tmp_path / "export"
    exported = CliRunner().invoke(app, ["export", "--out", str(out), "--data-dir", str(tmp_path / "data")])
    assert exported.exit_code == 0, exported.output
    [line] = (out / "pairs.jsonl").read_text(encoding="utf-8").splitlines()
    row = json.loads(line)  # the pair shape, then the files and the synthesis, as in `cns run`'s rows
    assert {k: row[k] for k in PAIR_FIELDS} == {k: item[k] for k in PAIR_FIELDS}
    assert list(row) == [*PAIR_FIELDS, *SYNTHESIS_FIELDS] and row["synthesis_sno_id"] is None


def test_run_jsonl_rows_are_the_pair_shape_plus_the_synthesis(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for key, value in FAKES.items():
        monkeypatch.setenv(key, value)
    out, data = tmp_path / "out", tmp_path / "data"
    result = CliRunner().invoke(
        app, ["run", str(write_corpus(tmp_path / "docs")), "--out", str(out), "--data-dir", str(data)]
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (out / "pairs.jsonl").read_text().splitlines()]
    assert rows
    assert all(list(row) == [*PAIR_FIELDS, *SYNTHESIS_FIELDS] for row in rows)
    assert all(row["pair_id"] and row["file_a"].endswith((".md", ".txt")) for row in rows)
    with SQLStore.open(data / "cns.sqlite3") as store:
        stored = {p.pair_id: p.to_dict() for p in store.list_pairs()}
    for row in rows:  # the run's row and the stored pair agree on everything but found_at
        pair = stored[row["pair_id"]]
        assert {k: row[k] for k in PAIR_FIELDS if k != "found_at"} == {
            k: pair[k] for k in PAIR_FIELDS if k != "found_at"
        }


def test_the_report_shows_conflict_texts_from_the_pair_shape() -> None:
    pair = opposed_pair()
    view = PairView.of(pair)
    html = render_report(ReportData("run", [pair.sno_a, pair.sno_b], [view]))
    [conflict] = [c for c in pair.conflict_points if c.kind == "hypothesis"]
    assert f"“{conflict.text_a}” ⟂ “{conflict.text_b}”" in html  # the texts, not the claim ids
    assert view.to_dict()["source"] == "opposition" and view.to_dict()["opposition"] == 0.75
