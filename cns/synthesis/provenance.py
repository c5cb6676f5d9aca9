"""Provenance of synthesized claims: which parent claims and which source spans each one rests on.

A synthesis is only as trustworthy as the link from each of its sentences back to the documents.
So every claim of a synthesis SNO — offline or LLM-written — is audited here against the *spans*
of its parents: every evidence item of ``E_A ∪ E_B`` (ingestion guarantees
``document.text[start:end] == item.content`` for items with a span) and every parent claim.

A claim is **verified** when a span contains it word for word (``match: verbatim``, compared on
lower-case words with markup and reference numbers removed) or when the NLI model says a span
entails it with ``p ≥ thresholds.provenance`` (``match: nli``). Unverified claims are dropped
from the graph or kept and flagged (``population.synthesis_unsupported_claims``); either way the
audit records them. The hypothesis is supported when a span, or the verified claims' spans taken
together, entail it — or, for the offline synthesizer's template sentence, when every passage it
quotes is verbatim in a span. A hypothesis nothing supports makes the synthesis a rejection.

The result lives in ``claim.metadata["provenance"]`` and ``sno.metadata["provenance_audit"]``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from cns.core.graph import ROOT_ID
from cns.core.sno import StructuredNarrativeObject
from cns.pairs.types import ChiralPair
from cns.ports import ENTAILMENT, NLIModel
from cns.synthesis.prose import comparable

UnsupportedPolicy = Literal["drop", "flag"]
MAX_SPANS_PER_CLAIM = 2
MAX_JOINT_PREMISE_CHARS = 1500
_QUOTED = re.compile(r"“([^”]+)”")


@dataclass(frozen=True)
class SourceSpan:
    """One passage a synthesized claim may rest on."""

    sno_id: str
    side: str  # "a" or "b"
    text: str
    source: str | None
    document_id: str | None
    start: int | None
    end: int | None
    evidence_key: str | None
    claim_id: str | None = None  # set when the span is (the sentence of) a parent claim

    def to_dict(self, match: str, p_entail: float | None) -> dict[str, Any]:
        return {
            "sno_id": self.sno_id,
            "side": self.side,
            "source": self.source,
            "document_id": self.document_id,
            "start": self.start,
            "end": self.end,
            "quote": self.text,
            "evidence_key": self.evidence_key,
            "claim_id": self.claim_id,
            "match": match,
            "p_entail": None if p_entail is None else round(p_entail, 4),
        }


def pair_spans(pair: ChiralPair) -> list[SourceSpan]:
    """Every evidence item of both parents, then their claims that have no evidence item of their own."""
    spans: list[SourceSpan] = []
    for side, sno in (("a", pair.sno_a), ("b", pair.sno_b)):
        source = sno.metadata.get("source")
        doc = sno.metadata.get("document_id")
        located: dict[tuple[int, int], SourceSpan] = {}
        for item in sorted(sno.evidence_set, key=lambda e: e.key):
            start, end = item.span if item.span is not None else (None, None)
            span = SourceSpan(
                sno.sno_id, side, item.content, source, item.document_id or doc, start, end, item.key
            )
            spans.append(span)
            if start is not None and end is not None and (item.document_id in (None, doc)):
                located[(start, end)] = span
        for claim in sno.claims():
            where = claim.metadata.get("span")
            if where and tuple(where) in located:
                own = located[tuple(where)]
                spans.append(replace(own, claim_id=claim.claim_id))
            else:  # no evidence item quotes it: the claim text, without offsets we cannot vouch for
                spans.append(
                    SourceSpan(sno.sno_id, side, claim.content, source, doc, None, None, None, claim.claim_id)
                )
    return spans


def _parents_of(spans: list[dict[str, Any]]) -> list[dict[str, str]]:
    seen: dict[tuple[str, str], dict[str, str]] = {}
    for s in spans:
        if s["claim_id"] is not None:
            seen.setdefault((s["sno_id"], s["claim_id"]), {"sno_id": s["sno_id"], "claim_id": s["claim_id"]})
    return list(seen.values())


@dataclass
class ProvenanceAudit:
    """What the audit found; ``to_dict`` is stored in ``sno.metadata["provenance_audit"]``."""

    claims: int
    verified: int
    dropped: list[dict[str, str]]
    flagged: list[dict[str, str]]
    hypothesis_supported: bool
    hypothesis_support: dict[str, Any]
    policy: UnsupportedPolicy

    @property
    def verified_share(self) -> float:
        return self.verified / self.claims if self.claims else 1.0

    @property
    def rejection(self) -> str | None:
        if self.hypothesis_supported:
            return None
        best = self.hypothesis_support.get("p_entail") or 0.0
        return (
            "the hypothesis is not supported by any evidence span of the parents "
            f"(best NLI p_entail {best:.2f}; no verbatim quote) — a synthesis must rest on its sources"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "claims": self.claims,
            "verified": self.verified,
            "verified_share": round(self.verified_share, 4),
            "unsupported_policy": self.policy,
            "dropped": list(self.dropped),
            "flagged": list(self.flagged),
            "hypothesis_supported": self.hypothesis_supported,
            "hypothesis_support": dict(self.hypothesis_support),
        }


def _verbatim(text: str, spans: list[SourceSpan], plain: list[str]) -> list[int]:
    needle = comparable(text)
    if not needle:
        return []
    hits = [i for i, hay in enumerate(plain) if needle in hay]
    # the parent claim's own located sentence first, then any located span, then the rest
    return sorted(hits, key=lambda i: (spans[i].claim_id is None, spans[i].start is None, i))


def _hypothesis_support(
    sno: StructuredNarrativeObject,
    spans: list[SourceSpan],
    plain: list[str],
    entail_h: np.ndarray,
    joint_p: float,
    threshold: float,
) -> tuple[bool, dict[str, Any]]:
    quotes = [q for q in sno.metadata.get("hypothesis_quotes", []) if q]
    if quotes and all(_verbatim(q, spans, plain) for q in quotes):
        found = [spans[_verbatim(q, spans, plain)[0]].to_dict("verbatim", None) for q in quotes]
        return True, {"match": "verbatim quotes", "spans": found, "p_entail": None}
    best = int(np.argmax(entail_h)) if entail_h.size else -1
    p_best = float(entail_h[best]) if best >= 0 else 0.0
    if p_best >= threshold:
        return True, {"match": "nli", "spans": [spans[best].to_dict("nli", p_best)], "p_entail": p_best}
    if joint_p >= threshold:
        return True, {"match": "nli (verified claims together)", "spans": [], "p_entail": joint_p}
    return False, {"match": "none", "spans": [], "p_entail": max(p_best, joint_p)}


def audit_provenance(
    sno: StructuredNarrativeObject,
    pair: ChiralPair,
    nli: NLIModel,
    *,
    threshold: float = 0.5,
    policy: UnsupportedPolicy = "drop",
) -> ProvenanceAudit:
    """Attach provenance to every claim of ``sno``, drop or flag the unsupported, check the hypothesis."""
    spans = pair_spans(pair)
    plain = [comparable(s.text) for s in spans]
    claims = [c for c in sno.claims() if c.claim_id != ROOT_ID]
    exact = [_verbatim(c.content, spans, plain) for c in claims]
    # NLI only where no span quotes the claim word for word (and always for the hypothesis)
    rows = [c.content for c, hits in zip(claims, exact, strict=True) if not hits]
    probs = np.zeros((len(rows) + 1, len(spans)))
    if spans:
        batch = [(s.text, t) for t in [*rows, sno.central_hypothesis] for s in spans]
        probs = nli.predict(batch)[:, ENTAILMENT].astype(np.float64).reshape(len(rows) + 1, len(spans))
    verified, support_texts = 0, []
    dropped: list[dict[str, str]] = []
    flagged: list[dict[str, str]] = []
    row = -1
    for claim, hits in zip(claims, exact, strict=True):
        if hits:
            chosen = [spans[i].to_dict("verbatim", None) for i in hits[:MAX_SPANS_PER_CLAIM]]
        else:
            row += 1
            order = [int(i) for i in np.argsort(-probs[row]) if probs[row, i] >= threshold]
            chosen = [spans[i].to_dict("nli", float(probs[row, i])) for i in order[:MAX_SPANS_PER_CLAIM]]
        declared = claim.metadata.get("from") or []
        record = {"verified": bool(chosen), "spans": chosen, "parent_claims": declared or _parents_of(chosen)}
        claim.metadata["provenance"] = record
        if chosen:
            verified += 1
            support_texts += [s["quote"] for s in chosen]
        elif policy == "drop":
            dropped.append({"claim_id": claim.claim_id, "text": claim.content})
            sno.reasoning_graph.remove_node(claim.claim_id)
        else:
            claim.metadata["provenance"]["flagged"] = "no evidence span contains or entails this claim"
            flagged.append({"claim_id": claim.claim_id, "text": claim.content})
    joint = 0.0
    if support_texts:
        premise = " ".join(dict.fromkeys(support_texts))[:MAX_JOINT_PREMISE_CHARS]
        joint = float(nli.predict([(premise, sno.central_hypothesis)])[0, ENTAILMENT])
    supported, support = _hypothesis_support(sno, spans, plain, probs[-1], joint, threshold)
    sno.root.metadata["provenance"] = {"verified": supported, **support}
    audit = ProvenanceAudit(len(claims), verified, dropped, flagged, supported, support, policy)
    sno.metadata["provenance_audit"] = audit.to_dict()
    return audit


def quoted_passages(text: str) -> list[str]:
    """The passages a template sentence quotes between “…” marks."""
    return [q.strip().rstrip("…").strip() for q in _QUOTED.findall(text)]
