"""What the ``cns`` command prints for configuration mistakes: one or two lines, never a traceback.

Run as a subprocess, the way a user runs it: the console-script wrapper turns errors into lines.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def cns(*args: str, env: dict[str, str] | None = None, home: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith("CNS_")}
    clean.update({"CNS_DATA_DIR": str(home / "cns-data"), "PYTHONPATH": str(ROOT), "COLUMNS": "80"})
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "cns", *args],
        capture_output=True,
        text=True,
        env=clean,
        timeout=120,
        check=False,
    )


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_a_preset_name_in_the_environment_works(tmp_path: Path) -> None:
    result = cns(
        "config", "show", "--format", "json", env={"CNS_CRITIC_WEIGHTS": "exploration"}, home=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["critic_weights"] == {"grounding": 0.1, "logic": 0.1, "novelty": 0.8}
    assert "Traceback" not in result.stderr


def test_bad_yaml_is_one_line_naming_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("models:\n  nli: [a, b\n  device: cpu\n", encoding="utf-8")
    result = cns("--config", str(path), "config", "show", home=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr + result.stdout
    assert lines(result.stderr) == [
        f"error: config file {path}, line 3, column 9: invalid YAML: expected ',' or ']', but got ':' "
        "(while parsing a flow sequence on line 2)"
    ]


def test_invalid_values_are_one_line_in_any_command(tmp_path: Path) -> None:
    for env in ({"CNS_CRITIC_WEIGHTS": "explore"}, {"CNS_SERVICE__TRUSTED_PROXIES": "10.0.0.1"}):
        result = cns("stats", env=env, home=tmp_path)
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        assert len(lines(result.stderr)) == 1 and lines(result.stderr)[0].startswith("error: "), result.stderr
        assert next(iter(env)) in result.stderr or "critic_weights" in result.stderr


def test_misspelled_variables_and_one_critic_weights_are_warned_once_on_stderr(tmp_path: Path) -> None:
    env = {"CNS_EMBEDING_DIM": "768", "CNS_CRITIC_WEIGHTS": '{"grounding": 5, "logic": 0, "novelty": 0}'}
    result = cns("config", "show", "--format", "json", env=env, home=tmp_path)
    assert result.returncode == 0, result.stderr
    json.loads(result.stdout)  # the warnings stay out of the command's output
    warnings = lines(result.stderr)
    assert len(warnings) == 2, result.stderr  # once each, although the CLI builds the config 3 times
    assert any(
        "ignored unknown environment variable: CNS_EMBEDING_DIM (did you mean CNS_EMBEDDING_DIM?)" in w
        for w in warnings
    )
    assert any("give the grounding critic all of the weight" in w for w in warnings)
