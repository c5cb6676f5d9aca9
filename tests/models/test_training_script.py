"""``scripts/train_embedded_nli.py`` end to end on the real data and the real model (integration).

What the shipped weights rest on: a warm start loads the folder it names, the starting weights
compete on DEV (a step that makes DEV worse is never saved), and the script's TEST evaluation of
the saved weights gives the numbers recorded when those weights were trained. One run of two
steps; the second uses a learning rate large enough to wreck the model, so "the start wins" is
decided by DEV and not by a tie. About 100 s of CPU.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cns.models.nli_embedded import DEFAULT_WEIGHTS_DIR

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "train_embedded_nli.py"

pytestmark = pytest.mark.integration


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_warm_start_that_makes_dev_worse_saves_the_starting_weights_unchanged(tmp_path: Path) -> None:
    start = DEFAULT_WEIGHTS_DIR / "v2"
    start_meta = json.loads((start / "embedded_nli.json").read_text())
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--init", str(start), "--out", str(out), "--steps", "2",
         "--eval-every", "2", "--lr", "0.5", "--head-lr", "5", "--batch-size", "4", "--no-fusion"],
        capture_output=True, text=True, timeout=900, cwd=REPO,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"warm start from {start}" in done.stdout
    meta = json.loads((out / "embedded_nli.json").read_text())
    history = {row["step"]: row for row in meta["history"]}
    assert set(history) == {0, 2}
    # the wrecking step really was worse on DEV, so the start was kept, byte for byte
    assert history[2]["snli_accuracy"] < history[0]["snli_accuracy"] - 0.2
    assert meta["selected_step"] == 0
    assert _sha(out / "embedded_nli.safetensors") == _sha(start / start_meta["weights_file"])
    assert meta["weights_sha256"] == start_meta["weights_sha256"]
    assert meta["recipe"]["init"] == str(start)
    # DEV at step 0 is what version 2's own training recorded for its selected step
    recorded = {row["step"]: row for row in start_meta["history"]}[start_meta["selected_step"]]
    for key in ("snli_accuracy", "fever_auc", "perspectrum_opposition_auc"):
        assert history[0][key] == pytest.approx(recorded[key], abs=1e-4)
    # and TEST of the saved weights (no fusion) reproduces version 2's recorded cross-encoder row
    expected = start_meta["test_metrics_all_rows"][f"cross-encoder only (n_top={start_meta['n_top']})"]
    for key in ("snli_accuracy", "fever_auc", "fever_paired_accuracy", "perspectrum_opposition_auc"):
        assert meta["test_metrics"][key] == pytest.approx(expected[key], abs=1e-4)
    assert "shipped: cross-encoder only" in done.stdout
