from __future__ import annotations

import json
import os
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


def test_eval_models_names_a_missing_weights_version_and_where_it_looked(tmp_path: Path) -> None:
    import subprocess
    import sys

    missing = tmp_path / "no-such-version"
    cns = Path(sys.executable).with_name("cns")
    done = subprocess.run(
        [str(cns), "eval", "models", "-b", f"embedded@{missing}", "--split", "dev"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "COLUMNS": "400"},
    )
    assert done.returncode == 1
    message = " ".join(done.stderr.split())
    assert f"no embedded NLI weights folder '{missing}'" in message and "source checkout" in message
    assert "Traceback" not in done.stderr


def test_previous_weights_versions_resolve_to_folders_of_the_source_checkout() -> None:
    import hashlib

    from cns.config import CNSConfig
    from cns.models.nli_embedded import DEFAULT_WEIGHTS_DIR
    from cns.services.model_eval import _embedded_version

    folder = DEFAULT_WEIGHTS_DIR / "v2"
    weights = folder / json.loads((folder / "embedded_nli.json").read_text())["weights_file"]
    model = _embedded_version("v2", CNSConfig())
    # the version id is the sha256 prefix of the weights that were loaded
    assert model.version.split("-")[0] == hashlib.sha256(weights.read_bytes()).hexdigest()[:12]
