from __future__ import annotations

import cns


def test_all_is_sorted_and_complete() -> None:
    assert list(cns.__all__) == sorted(cns.__all__)
    public = {name for name in vars(cns) if not name.startswith("_")} - {
        "config",
        "core",
        "critics",
        "errors",
        "logging_setup",
        "models",
        "metrics",
        "ports",
        "index",
        "services",
        "testing",
        "store",
        "cli",
    }
    assert public | {"__version__"} == set(cns.__all__)


def test_guide_names_exist() -> None:
    assert cns.StructuredNarrativeObject and cns.CNSConfig and cns.EvidenceItem and cns.RelationType
