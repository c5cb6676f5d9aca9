from __future__ import annotations

import types

import cns


def test_all_is_sorted_and_complete() -> None:
    assert list(cns.__all__) == sorted(cns.__all__)
    # the names are imported on first use (cns.lazy_exports); resolve them all, then compare
    for name in cns.__all__:
        getattr(cns, name)
    assert set(cns.__all__) <= set(dir(cns))
    # subpackages appear as attributes once imported anywhere; only re-exported names count
    public = {
        name
        for name, value in vars(cns).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public | {"__version__"} == set(cns.__all__)


def test_guide_names_exist() -> None:
    assert cns.StructuredNarrativeObject and cns.CNSConfig and cns.EvidenceItem and cns.RelationType
