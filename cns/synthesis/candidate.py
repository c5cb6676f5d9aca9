"""Turning the LLM's JSON into a candidate SNO, and every reason to refuse it
(docs/design-notes.md#structured-llm-output).

Findings are plain sentences written to be sent back to the model in a refinement round, so each
names the offending id and what is allowed. A candidate is built only when there are none.
Blank ids or texts and values the store cannot keep (NUL, unpaired surrogates) are findings too,
not exceptions: those ended the refinement rounds as an "error" attempt (found by fuzzing, issue 8).
The hard constraints: a DAG over known claim ids and relation types; every evidence id in
``E_A ∪ E_B``; ``E_C ⊇ E_A ∩ E_B``; a non-trivial hypothesis (≥ 6 words, not a copy of either
parent: cosine < 0.95 to each).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cns.core.graph import ROOT_ID, RelationType
from cns.core.ids import normalize_text
from cns.core.sno import StructuredNarrativeObject
from cns.core.storable import json_problem
from cns.errors import ValidationError
from cns.models.json_output import validate_json
from cns.pairs.types import ChiralPair
from cns.ports import Embedder
from cns.synthesis.prompt import SYNTHESIS_SCHEMA, EvidenceCatalog

MIN_HYPOTHESIS_WORDS = 6
MAX_PARENT_COSINE = 0.95


@dataclass
class CandidateCheck:
    sno: StructuredNarrativeObject | None
    findings: list[str]


def hypothesis_findings(text: str, pair: ChiralPair, embedder: Embedder) -> list[str]:
    """Why ``text`` is not a real synthesis hypothesis (empty when it is acceptable)."""
    words = text.split()
    if len(words) < MIN_HYPOTHESIS_WORDS:
        return [
            f"the hypothesis has {len(words)} words; "
            f"write a full statement of at least {MIN_HYPOTHESIS_WORDS}"
        ]
    found = []
    parents = (("A", pair.sno_a.central_hypothesis), ("B", pair.sno_b.central_hypothesis))
    vectors = embedder.encode([text] + [h for _, h in parents])
    for (label, parent), vec in zip(parents, vectors[1:], strict=True):
        cosine = float(np.dot(vectors[0], vec))
        if normalize_text(text).lower() == normalize_text(parent).lower() or cosine >= MAX_PARENT_COSINE:
            found.append(
                f"the hypothesis copies narrative {label}'s hypothesis "
                f"(cosine {cosine:.3f} >= {MAX_PARENT_COSINE}); resolve the conflict instead of restating one side"
            )
    return found


def _claims(data: dict[str, Any], sno: StructuredNarrativeObject) -> list[str]:
    findings = []
    for claim in data["claims"]:
        cid, text = claim["id"].strip(), claim["text"].strip()
        if not cid or not text:  # the schema's minLength counts spaces; an SNO node cannot be blank
            findings.append(f"claim {cid or claim['id']!r} has a blank id or text; give both")
        elif cid == ROOT_ID or cid in sno.reasoning_graph:
            findings.append(f"claim id {cid!r} is reserved or used twice; give each claim a unique id")
        else:
            sno.add_claim(text, claim.get("type") or "assertion", claim_id=cid)
    return findings


def _edges(data: dict[str, Any], sno: StructuredNarrativeObject) -> list[str]:
    findings = []
    for edge in data["edges"]:
        src, tgt = edge["src"].strip(), edge["tgt"].strip()
        unknown = [x for x in (src, tgt) if x not in sno.reasoning_graph]
        if unknown:
            findings.append(
                f"edge {src!r} -> {tgt!r} names unknown claim id(s) {unknown}; use claim ids or {ROOT_ID!r}"
            )
            continue
        try:
            sno.add_reasoning_edge(src, tgt, RelationType.parse(edge["relation"]))
        except ValidationError as exc:  # cycles, self-loops and unknown relations
            findings.append(f"edge {src!r} -> {tgt!r} rejected: {exc.message}")
    return findings


def _evidence(data: dict[str, Any], sno: StructuredNarrativeObject, catalog: EvidenceCatalog) -> list[str]:
    findings = []
    for ref in data["evidence_ids"]:
        item = catalog.resolve(ref)
        if item is None:
            findings.append(
                f"evidence id {ref!r} is not in E_A ∪ E_B (unknown evidence); "
                f"cite only {', '.join(catalog.aliases)}"
            )
        else:
            sno.add_evidence(item)
    missing = sorted(catalog.alias_of(k) for k in catalog.shared_keys - sno.evidence_keys)
    if missing:
        findings.append(
            f"dropped shared evidence {', '.join(missing)}: E_C must contain E_A ∩ E_B (keep every shared id)"
        )
    if not sno.evidence_set and not findings:
        findings.append("no evidence cited: cite the evidence ids that ground the claims")
    return findings


def build_candidate(
    data: dict[str, Any], pair: ChiralPair, catalog: EvidenceCatalog, *, sno_id: str, embedder: Embedder
) -> CandidateCheck:
    """Validate the parsed answer and build the candidate SNO (``sno`` is None on any finding)."""
    schema_problems = validate_json(data, SYNTHESIS_SCHEMA)
    if schema_problems:
        return CandidateCheck(None, [f"JSON schema: {p}" for p in schema_problems])
    unstorable = json_problem(data, "answer")  # NUL or an unpaired surrogate (a \ud800 escape)
    if unstorable:
        return CandidateCheck(None, [f"{unstorable}; write plain text"])
    hypothesis = str(data["hypothesis"]).strip()
    findings = hypothesis_findings(hypothesis, pair, embedder)
    sno = StructuredNarrativeObject(hypothesis or "(empty)", sno_id=sno_id)
    findings += _claims(data, sno)
    findings += _edges(data, sno)
    findings += _evidence(data, sno, catalog)
    return CandidateCheck(None if findings else sno, findings)
