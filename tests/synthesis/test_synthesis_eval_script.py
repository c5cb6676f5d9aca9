"""Smoke test of ``benchmarks/synthesis_eval.py`` with the fake models (the script is not a package)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from cns.config import CNSConfig
from cns.testing.fakes import HashEmbedder, RuleNLI

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "synthesis_eval.py"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("synthesis_eval", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["synthesis_eval"] = module
    spec.loader.exec_module(module)
    return module


def test_populations_pair_up_by_shared_keys() -> None:
    script = load_script()
    fever = script.fever_population(5)
    assert len(fever) == 10
    for t, f in zip(fever[::2], fever[1::2], strict=True):
        assert f.central_hypothesis == f"It is not true that {t.central_hypothesis}"
        assert len(t.evidence_keys & f.evidence_keys) == 1 and len(t.evidence_keys | f.evidence_keys) == 3
    persp = script.perspectrum_population(5)
    assert len(persp) % 2 == 0 and persp
    for s, u in zip(persp[::2], persp[1::2], strict=True):
        assert len(s.evidence_keys & u.evidence_keys) == 1


def test_whole_path_runs_with_fakes_and_the_fake_server() -> None:
    script = load_script()
    config = CNSConfig(
        chirality={"method": "nli"},  # the synthesis path under test, not the pair judgement
        synthesis_thresholds={"chirality": 0.05, "entanglement": 0.05, "potential": 0.05},
        population={"max_refinements": 0},
    )
    snos = script.fever_population(8)
    with script.llm_client(config) as llm:
        assert llm[1] == "LLM via fake server (pipeline test, no LLM configured)"
        rows = script.run("FEVER", snos, config, HashEmbedder(384), RuleNLI(), llm)
    offline, online = ([cell.strip() for cell in row.strip("|").split("|")] for row in rows)
    assert offline[0] == "FEVER · offline" and online[0].startswith("FEVER · LLM via fake server")
    assert offline[1] == online[1] and int(online[1]) >= 5  # same pairs, most of the 8 claims
    assert offline[2] == offline[1]  # the offline synthesizer produces a candidate for every pair
    assert offline[6].endswith("(100%)")  # every offline claim is traced to a parent span
    assert offline[7] == f"{offline[2]}/{offline[2]}"  # and every offline synthesis is readable
