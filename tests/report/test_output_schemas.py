"""The documented JSON schemas (docs/schemas/) describe every field `cns run` writes.

Each schema forbids fields it does not describe, so a field added to snos.jsonl or pairs.jsonl
without documentation fails here, and so does a field whose type changed.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from typer.testing import CliRunner

from cns.cli.main import app
from tests.services.run_corpus import write_corpus

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "docs" / "schemas"


def validator(name: str) -> Any:
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    assert jsonschema_rs.meta.is_valid(schema), f"{name} is not a valid JSON Schema"
    return jsonschema_rs.validator_for(schema, validate_formats=True)


def problems(name: str, rows: list[dict[str, Any]]) -> list[str]:
    check = validator(name)
    return [
        f"row {i} {e.instance_path}: {e.message[:160]}"
        for i, row in enumerate(rows)
        for e in check.iter_errors(row)
    ]


def rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def run_outputs(corpus: Path, tmp_path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["-q", "run", str(corpus), "--out", str(out), "--data-dir", str(tmp_path / "d")]
    )
    assert result.exit_code == 0, result.output
    return rows(out / "snos.jsonl"), rows(out / "pairs.jsonl")


def test_every_row_of_a_run_matches_the_documented_schemas(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CNS_MODELS__EMBEDDING_BACKEND", "fake")
    monkeypatch.setenv("CNS_MODELS__NLI_BACKEND", "fake")
    snos, pairs = run_outputs(write_corpus(tmp_path / "docs"), tmp_path)
    assert pairs and any(p["synthesis"] for p in pairs), "the corpus must give a pair with its synthesis"
    assert any(s["metadata"].get("source") == "synthesis" for s in snos)
    assert problems("sno.schema.json", snos) == []
    assert problems("pair.schema.json", pairs) == []

    # negative controls: an undocumented field, a wrong type and a score out of range are caught
    extra = copy.deepcopy(pairs[0]) | {"undocumented": 1}
    assert any("undocumented" in p for p in problems("pair.schema.json", [extra]))
    wrong = copy.deepcopy(snos[0])
    wrong["trust_score"] = "high"
    assert problems("sno.schema.json", [wrong])
    wrong_edge = copy.deepcopy(next(s for s in snos if s["reasoning_graph"]["links"]))
    wrong_edge["reasoning_graph"]["links"][0]["reasoning_edge"]["relation_type"] = "agrees"
    assert problems("sno.schema.json", [wrong_edge])
    high = copy.deepcopy(pairs[0]) | {"chirality": 1.5}
    assert problems("pair.schema.json", [high])


@pytest.mark.slow
def test_the_demo_corpus_with_the_real_models_matches_the_schemas(tmp_path: Path) -> None:
    snos, pairs = run_outputs(ROOT / "examples", tmp_path)
    assert len(snos) >= 12 and pairs
    assert problems("sno.schema.json", snos) == []
    assert problems("pair.schema.json", pairs) == []
