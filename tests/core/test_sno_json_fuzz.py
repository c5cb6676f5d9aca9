"""Hypothesis fuzzing of the SNO JSON loader: any JSON gives an SNO or a ``ValidationError``.

``StructuredNarrativeObject.from_dict`` reads SNO files from outside (``cns sno validate`` and
``import``). Properties:

* mutations of a valid SNO document (a field replaced by any JSON value, or deleted) and
  arbitrary JSON values load or raise :class:`~cns.errors.ValidationError` — never ``KeyError``,
  ``TypeError``, ``AttributeError``, a bare ``ValueError`` or a numpy warning, as they did before
  ``cns.core.sno_shape``; the examples that did are kept as ``@example`` regressions;
* whatever loads re-serialises to a document that loads to the same SNO (same JSON, same hash);
* generated SNOs survive ``to_dict`` → JSON text → ``from_dict`` unchanged.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cns.core.evidence import EvidenceItem
from cns.core.graph import ROOT_ID, RelationType
from cns.core.sno import StructuredNarrativeObject
from cns.errors import ValidationError
from tests.security.fuzz_support import Outcomes, fuzz_settings

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(180)]

Path_ = tuple[str | int, ...]
DELETE = "<delete>"


def _valid() -> dict[str, Any]:
    sno = StructuredNarrativeObject("Continents drift slowly.", sno_id="s1", trust_score=0.5)
    sno.set_embedding([0.1, 0.2, 0.3, 0.4])
    claim = sno.add_claim("Fossils match across oceans.", "premise")
    sno.add_reasoning_edge(claim, ROOT_ID, "supports", 0.8)
    sno.add_evidence(EvidenceItem("A quoted sentence.", source_id="doi:10.1/x", span=(0, 18)))
    return sno.to_dict()


VALID = _valid()


def _paths(value: Any, prefix: Path_ = ()) -> list[Path_]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


PATHS = [p for p in _paths(VALID) if p]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
MUTATIONS = st.lists(st.tuples(st.sampled_from(PATHS), JSON_VALUES | st.just(DELETE)), min_size=1, max_size=3)


def mutated(mutations: list[tuple[Path_, Any]]) -> dict[str, Any]:
    """``VALID`` with each (path, value) applied in order; paths an earlier edit removed are skipped."""
    data = copy.deepcopy(VALID)
    for path, value in mutations:
        parent: Any = data
        try:
            for step in path[:-1]:
                parent = parent[step]
            if value == DELETE and isinstance(parent, dict):
                parent.pop(path[-1], None)
            elif value != DELETE:
                parent[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    return data


def load(data: Any) -> tuple[str, StructuredNarrativeObject | None]:
    """The loader's outcome; re-serialising what loaded must load to the same SNO."""
    try:
        sno = StructuredNarrativeObject.from_dict(data)
    except ValidationError as exc:
        assert exc.message.strip()
        return "ValidationError", None
    again = StructuredNarrativeObject.from_dict(json.loads(json.dumps(sno.to_dict())))
    assert again.to_dict() == sno.to_dict() and again.content_hash() == sno.content_hash()
    return "loaded", sno


# Each of these raised something other than ValidationError before cns.core.sno_shape.
_REGRESSIONS: list[list[tuple[Path_, Any]]] = [
    [(("reasoning_graph", "links"), None)],  # TypeError: 'NoneType' object is not iterable
    [(("evidence_set", 0), None)],  # AttributeError: 'NoneType' object has no attribute 'get'
    [(("evidence_set", 0, "metadata"), [{"a": None}, {}, []])],  # ValueError from dict([...])
    [(("reasoning_graph", "nodes", 0, "claim", "claim_id"), DELETE)],  # KeyError: 'claim_id'
    [(("reasoning_graph", "nodes", 1, "claim", "confidence"), "high")],  # ValueError from float()
    [(("evidence_set", 0, "span"), [1])],  # IndexError
    [(("hypothesis_embedding",), [1e300, 0.0, 0.0, 0.0])],  # numpy overflow RuntimeWarning
    [(("created_at",), "yesterday")],  # ValueError from datetime.fromisoformat
    [(("status",), "deleted")],  # ValueError from SNOStatus()
    [(("central_hypothesis",), "claim \ud800")],  # UnicodeEncodeError hashing the content
    [(("sno_schema_version",), "2")],  # ValueError from int() ... or a silent coercion
]


def test_mutated_sno_json_loads_or_raises_validation_error() -> None:
    outcomes = Outcomes()

    def run(mutations: list[tuple[Path_, Any]]) -> None:
        outcomes.add(load(mutated(mutations))[0])

    test = given(mutations=MUTATIONS)(run)
    for regression in _REGRESSIONS:
        test = example(mutations=regression)(test)
    fuzz_settings(1500)(test)()
    assert outcomes.counts["loaded"] > 0 and outcomes.counts["ValidationError"] > 0
    outcomes.record(
        "sno-json:mutations",
        "valid SNO JSON with up to 3 fields replaced by any JSON value (NaN, null, nesting …) or deleted",
        "an SNO that re-serialises identically, or ValidationError naming the field",
    )


@fuzz_settings(500)
@given(data=JSON_VALUES | st.dictionaries(st.sampled_from(sorted(VALID)), JSON_VALUES))
@example(data={"central_hypothesis": "H", "reasoning_graph": []})
@example(data={"central_hypothesis": 3, "reasoning_graph": {}})
def test_any_json_value_loads_or_raises_validation_error(data: Any) -> None:
    load(data)


@st.composite
def snos(draw: st.DrawFn) -> StructuredNarrativeObject:
    text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30).filter(
        str.strip
    )
    sno = StructuredNarrativeObject(
        draw(text),
        trust_score=draw(st.none() | st.floats(0, 1)),
        metadata=draw(st.dictionaries(st.text(max_size=6), st.text(max_size=6) | st.integers(), max_size=3)),
        status=draw(st.sampled_from(["candidate", "active", "archived"])),
    )
    ids = [sno.add_claim(draw(text), claim_id=f"c{i}") for i in range(draw(st.integers(0, 5)))]
    nodes = [*ids, ROOT_ID]
    for i, src in enumerate(nodes[:-1]):  # edges only forward in this order: a DAG by construction
        for tgt in draw(st.lists(st.sampled_from(nodes[i + 1 :]), max_size=2, unique=True)):
            sno.add_reasoning_edge(src, tgt, draw(st.sampled_from(list(RelationType))), draw(st.floats(0, 1)))
    for content in draw(st.lists(text, max_size=3)):
        sno.add_evidence(EvidenceItem(content, source_id=draw(st.sampled_from(["", "doi:10.1/a", "doc"]))))
    return sno


def test_generated_snos_round_trip_through_json_text() -> None:
    outcomes = Outcomes()
    lost = 0

    @fuzz_settings(200)
    @given(sno=snos())
    def run(sno: StructuredNarrativeObject) -> None:
        nonlocal lost
        text = json.dumps(sno.to_dict(), ensure_ascii=False, allow_nan=False)
        again = StructuredNarrativeObject.from_dict(json.loads(text))
        lost += len(sno.evidence_set) - len(again.evidence_set)
        assert again.to_dict() == sno.to_dict() and again.content_hash() == sno.content_hash()
        outcomes.add("round trip")

    run()
    outcomes.record(
        "roundtrip:sno-json",
        "generated SNOs (claims, DAG edges, evidence, metadata) → to_dict → JSON text → from_dict",
        "identical JSON and content hash",
        lost=lost,
    )
