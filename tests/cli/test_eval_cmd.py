from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cns.cli.main import app


def test_eval_models_prints_table_and_json(tmp_path: Path) -> None:
    out = tmp_path / "metrics.json"
    result = CliRunner().invoke(app, ["eval", "models", "-b", "fake", "--split", "dev", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "| fake |" in result.stdout and "FEVER AUC" in result.stdout
    metrics = json.loads(out.read_text())["fake"]
    for key in ("snli_accuracy", "fever_auc", "fever_paired_accuracy", "perspectrum_opposition_auc"):
        assert 0.0 <= metrics[key] <= 1.0
    assert metrics["snli_n"] > 100 and metrics["model"] == "fake:rule-nli@1"
    # the rule-based fake knows negation, so it beats chance on FEVER-Symmetric's minimal pairs
    assert metrics["fever_auc"] > 0.6


def test_eval_models_rejects_unknown_split() -> None:
    result = CliRunner().invoke(app, ["eval", "models", "-b", "fake", "--split", "validation"])
    assert result.exit_code != 0
