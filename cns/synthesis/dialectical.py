"""The offline synthesizer: a structured dialectical synthesis built only from the pair's material.

Without an LLM, CNS cannot write new claims — and must not pretend to. Instead of gluing the two
parents' sentences together, it lays out what a reader needs in four short sections, in template
sentences whose facts are all quoted from the parents and their evidence:

* **common ground** — the sources both accounts cite, and the parent statements that evidence of
  *both* sides entails (NLI) and that no conflict point disputes;
* **conflict** — the strongest conflicting claim pair (the pair's conflict points, by NLI), each
  side quoted and attributed;
* **evidence for each side** — for each account, the statement of its own that the shared
  evidence entails most, or that it rests on its own sources instead;
* **open question** — what the shared evidence leaves undecided.

The hypothesis is one sentence: the reconciled position when the shared evidence supports one
side's statement of the conflict and not the other's, else the precise point of disagreement.
Links and the documents' own citation markers become reference numbers ``[n]`` (see
:mod:`cns.synthesis.prose`). The reasoning graph holds the quoted parent statements themselves
(so the critics judge the parents' words, not the template), each with its parent claim recorded
for the provenance audit. Labelled ``metadata["synthesizer"] = "offline"``; the sections are in
``metadata["sections"]`` and the references in ``metadata["references"]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import numpy as np

from cns.core.evidence import EvidenceItem
from cns.core.graph import ROOT_ID, ClaimNode
from cns.core.sno import StructuredNarrativeObject
from cns.pairs.types import ChiralPair, ConflictPoint
from cns.ports import ENTAILMENT, NLIModel
from cns.synthesis.prompt import EvidenceCatalog
from cns.synthesis.prose import ReferenceBook, clean_sentence, comparable, plain, quote
from cns.synthesis.provenance import quoted_passages

SECTION_ORDER = ("common_ground", "conflict", "evidence_for_each_side", "open_question")
HYPOTHESIS_QUOTE_WORDS = 14
MAX_COMMON_GROUND = 2


@dataclass(frozen=True)
class Side:
    key: str  # "a" or "b"
    letter: str  # "A" or "B"
    sno: StructuredNarrativeObject

    @property
    def name(self) -> str:
        title = self.sno.metadata.get("title")
        if not title:
            source = str(self.sno.metadata.get("source") or "")
            title = PurePath(source.split("#")[0]).stem.replace("-", " ") if source else self.sno.sno_id[:8]
        words = " ".join(str(title).split()).split()
        return " ".join(words[:12]) + (" …" if len(words) > 12 else "")


@dataclass(frozen=True)
class Statement:
    """A parent claim (or hypothesis) that may be quoted."""

    side: Side
    claim: ClaimNode

    @property
    def ref(self) -> dict[str, str]:
        return {"sno_id": self.side.sno.sno_id, "claim_id": self.claim.claim_id}


class _Writer:
    """Quotes parent text with reference numbers that point into one shared :class:`ReferenceBook`."""

    def __init__(self, pair: ChiralPair, catalog: EvidenceCatalog) -> None:
        self.book = ReferenceBook()
        self.catalog = catalog
        self._markers: dict[tuple[str, int, int], dict[str, list[EvidenceItem]]] = {}
        for sno in (pair.sno_a, pair.sno_b):
            for item in sorted(sno.evidence_set, key=lambda e: e.key):
                marker = item.metadata.get("marker")
                if marker and item.span is not None and item.metadata.get("citation_kind") == "numbered":
                    where = self._markers.setdefault((sno.sno_id, *item.span), {})
                    where.setdefault(str(marker), []).append(item)

    def markers(self, stmt: Statement) -> dict[str, list[EvidenceItem]] | None:
        """Citation markers of the statement's sentence (None: not located, keep markers as written)."""
        span = stmt.claim.metadata.get("span")
        if not span:
            return None
        return self._markers.get((stmt.side.sno.sno_id, int(span[0]), int(span[1])), {})

    def quote(self, stmt: Statement, max_words: int | None = None) -> str:
        if max_words is None:
            return quote(stmt.claim.content, self.book, self.markers(stmt))
        return quote(stmt.claim.content, self.book, self.markers(stmt), max_words)

    def text(self, stmt: Statement) -> str:
        return clean_sentence(stmt.claim.content, self.book, self.markers(stmt))

    def cite(self, items: list[EvidenceItem]) -> str:
        return self.book.cite(items)


def _statements(pair: ChiralPair, max_per_side: int) -> list[Statement]:
    out = []
    for side in (Side("a", "A", pair.sno_a), Side("b", "B", pair.sno_b)):
        claims = [c for c in side.sno.claims() if c.claim_id != ROOT_ID][:max_per_side]
        out += [Statement(side, c) for c in [side.sno.root, *claims]]
    return out


def _entailment(statements: list[Statement], items: tuple[EvidenceItem, ...], nli: NLIModel) -> np.ndarray:
    """``p_entail(item ⇒ statement)``; an item that merely repeats the statement scores 0."""
    if not statements or not items:
        return np.zeros((len(statements), len(items)))
    premises = [plain(item.content) or item.content for item in items]
    batch = [(p, plain(s.claim.content) or s.claim.content) for s in statements for p in premises]
    probs = nli.predict(batch)[:, ENTAILMENT].astype(np.float64).reshape(len(statements), len(items))
    for r, s in enumerate(statements):
        own = comparable(s.claim.content)
        for c, item in enumerate(items):
            if comparable(item.content) == own:
                probs[r, c] = 0.0
    return probs


def _conflict(pair: ChiralPair) -> ConflictPoint:
    claims = [c for c in pair.conflict_points if c.kind == "claim"]
    if claims:
        return max(claims, key=lambda c: (c.p_contra, c.claim_a, c.claim_b))
    for c in pair.conflict_points:
        return c
    a, b = pair.sno_a.root, pair.sno_b.root
    return ConflictPoint("hypothesis", a.claim_id, b.claim_id, a.content, b.content, 0.0)


class _Analysis:
    """The NLI facts the sections are written from (one batched call)."""

    def __init__(
        self, pair: ChiralPair, catalog: EvidenceCatalog, nli: NLIModel, threshold: float, max_per_side: int
    ) -> None:
        self.pair, self.catalog, self.threshold = pair, catalog, threshold
        self.statements = _statements(pair, max_per_side)
        self.entail = _entailment(self.statements, catalog.items, nli)
        self.shared_cols = [i for i, it in enumerate(catalog.items) if it.key in catalog.shared_keys]
        self.point = _conflict(pair)
        disputed = {("a", c.claim_a) for c in pair.conflict_points if c.p_contra >= 0.5}
        disputed |= {("b", c.claim_b) for c in pair.conflict_points if c.p_contra >= 0.5}
        self.disputed = disputed | {("a", self.point.claim_a), ("b", self.point.claim_b)}

    def row(self, side: str, claim_id: str) -> int | None:
        for r, s in enumerate(self.statements):
            if s.side.key == side and s.claim.claim_id == claim_id:
                return r
        return None

    def cols_of(self, sno: StructuredNarrativeObject) -> list[int]:
        keys = sno.evidence_keys
        return [i for i, it in enumerate(self.catalog.items) if it.key in keys]

    def best(self, row: int, cols: list[int]) -> tuple[float, int | None]:
        if not cols:
            return 0.0, None
        col = max(cols, key=lambda c: self.entail[row, c])
        return float(self.entail[row, col]), col

    def common_ground(self) -> list[tuple[Statement, list[EvidenceItem]]]:
        cols_a, cols_b = self.cols_of(self.pair.sno_a), self.cols_of(self.pair.sno_b)
        found = []
        for r, s in enumerate(self.statements):
            if s.claim.claim_id == ROOT_ID or (s.side.key, s.claim.claim_id) in self.disputed:
                continue
            p_a, c_a = self.best(r, cols_a)
            p_b, c_b = self.best(r, cols_b)
            if min(p_a, p_b) >= self.threshold and c_a is not None and c_b is not None:
                items = [self.catalog.items[c] for c in dict.fromkeys([c_a, c_b])]
                found.append((min(p_a, p_b), s, items))
        found.sort(key=lambda f: (-f[0], f[1].side.key, f[1].claim.claim_id))
        return [(s, items) for _, s, items in found[:MAX_COMMON_GROUND]]

    def shared_support(self, side: str) -> tuple[Statement, EvidenceItem, float] | None:
        """The side's statement the shared evidence entails most (None below the threshold)."""
        best: tuple[Statement, EvidenceItem, float] | None = None
        for r, s in enumerate(self.statements):
            if s.side.key != side:
                continue
            p, col = self.best(r, self.shared_cols)
            if col is not None and p >= self.threshold and (best is None or p > best[2]):
                best = (s, self.catalog.items[col], p)
        return best

    def supports_point(self, side: str) -> bool:
        claim_id = self.point.claim_a if side == "a" else self.point.claim_b
        r = self.row(side, claim_id)
        return r is not None and self.best(r, self.shared_cols)[0] >= self.threshold


def _own_sources(sno: StructuredNarrativeObject, shared: frozenset[str]) -> list[EvidenceItem]:
    return sorted((i for i in sno.evidence_set if i.is_source and i.key not in shared), key=lambda i: i.key)


def _sections(
    analysis: _Analysis, writer: _Writer, a: Statement, b: Statement
) -> tuple[dict[str, list[str]], list[tuple[str, Statement, list[EvidenceItem]]]]:
    """The prose of each section, and the parent statements it quotes (they become the claims)."""
    catalog = analysis.catalog
    shared = [i for i in catalog.items if i.key in catalog.shared_keys]
    used: list[tuple[str, Statement, list[EvidenceItem]]] = []
    common: list[str] = []
    if shared:
        noun = "source" if len(shared) == 1 else f"{len(shared)} sources"
        common.append(f"Both accounts cite the same {noun}: {writer.cite(shared)}.")
    else:
        common.append("The two accounts cite no source in common.")
    agreed = analysis.common_ground()
    for stmt, items in agreed:
        common.append(
            f"Evidence of both sides supports this statement of account {stmt.side.letter}: "
            f"{writer.quote(stmt)} {writer.cite(items)}."
        )
        used.append(("common_ground", stmt, items))
    if not agreed:
        common.append("No further statement of either account is supported by the evidence of both sides.")
    conflict = [
        f"Account A ({a.side.name}) states: {writer.quote(a)}.",
        f"Account B ({b.side.name}) states instead: {writer.quote(b)}.",
    ]
    used += [("conflict", a, []), ("conflict", b, [])]
    each: list[str] = []
    for side in (a.side, b.side):
        support = analysis.shared_support(side.key)
        if support is not None:
            stmt, item, _ = support
            each.append(
                f"For account {side.letter}, the shared evidence {writer.cite([item])} supports: {writer.quote(stmt)}."
            )
            used.append(("evidence_for_each_side", stmt, [item]))
            continue
        own = _own_sources(side.sno, catalog.shared_keys)[:4]
        rest = f"rests on its own sources {writer.cite(own)}" if own else "rests on its own text alone"
        used.append(("evidence_for_each_side", a if side.key == "a" else b, own))
        each.append(
            f"For account {side.letter}, no statement follows from the shared evidence alone; it {rest}."
        )
    favours = [s for s in ("a", "b") if analysis.supports_point(s)]
    if len(favours) == 1:
        winner, loser = ("A", "B") if favours == ["a"] else ("B", "A")
        question = [
            f"The shared evidence supports account {winner}'s statement of the conflict, not account {loser}'s.",
            f"The open question is whether the sources only account {loser} cites outweigh it on this point.",
        ]
    else:
        question = [
            "The evidence both accounts cite does not decide between the two statements of the conflict.",
            "The open question is which of them holds; settling it needs evidence that tests them directly.",
        ]
    return {
        "common_ground": common,
        "conflict": conflict,
        "evidence_for_each_side": each,
        "open_question": question,
    }, used


def _hypothesis(analysis: _Analysis, writer: _Writer, a: Statement, b: Statement) -> str:
    qa = writer.quote(a, HYPOTHESIS_QUOTE_WORDS)
    qb = writer.quote(b, HYPOTHESIS_QUOTE_WORDS)
    favours = [s for s in ("a", "b") if analysis.supports_point(s)]
    if favours == ["a"]:
        return f"The evidence both accounts cite supports account A's statement {qa}, not account B's {qb}."
    if favours == ["b"]:
        return f"The evidence both accounts cite supports account B's statement {qb}, not account A's {qa}."
    return (
        f"Accounts A and B disagree on one point that their shared evidence leaves open: {qa} against {qb}."
    )


def offline_candidate(
    pair: ChiralPair,
    catalog: EvidenceCatalog,
    nli: NLIModel,
    *,
    sno_id: str,
    threshold: float = 0.5,
    max_claims_per_side: int = 8,
) -> StructuredNarrativeObject:
    """The structured dialectical synthesis of ``pair`` (see the module docstring)."""
    analysis = _Analysis(pair, catalog, nli, threshold, max_claims_per_side)
    writer = _Writer(pair, catalog)
    point = analysis.point
    a = Statement(Side("a", "A", pair.sno_a), pair.sno_a.get_claim(point.claim_a))
    b = Statement(Side("b", "B", pair.sno_b), pair.sno_b.get_claim(point.claim_b))
    # number the shared sources first, so they are [1] … [k] everywhere
    writer.cite([i for i in catalog.items if i.key in catalog.shared_keys])
    sections, used = _sections(analysis, writer, a, b)
    hypothesis = _hypothesis(analysis, writer, a, b)
    sno = StructuredNarrativeObject(hypothesis, sno_id=sno_id, metadata={"synthesizer": "offline"})
    ids: dict[tuple[str, str], str] = {}
    for section, stmt, items in used:
        for item in items:
            sno.add_evidence(item)
        key = (stmt.side.key, stmt.claim.claim_id)
        if key in ids:
            continue
        cid = sno.add_claim(
            writer.text(stmt),
            section if section != "conflict" else f"position_{stmt.side.key}",
            claim_id=f"{section}_{stmt.side.key}_{stmt.claim.claim_id}",
            metadata={"section": section, "side": stmt.side.key, "from": [stmt.ref]},
        )
        ids[key] = cid
    for (side, _), cid in ids.items():
        target = ROOT_ID
        conflict_id = ids.get((side, point.claim_a if side == "a" else point.claim_b))
        if cid.startswith("evidence_for_each_side") and conflict_id is not None and conflict_id != cid:
            target = conflict_id
        sno.add_reasoning_edge(cid, target, "supports")
    for item in catalog.items:
        if item.key in catalog.shared_keys:
            sno.add_evidence(item)
    sno.metadata.update(
        {
            "sections": {name: sections[name] for name in SECTION_ORDER},
            "references": list(writer.book.entries),
            "hypothesis_quotes": quoted_passages(hypothesis),
            "conflict_point": point.to_dict(),
            "sides": {"A": a.side.name, "B": b.side.name},
        }
    )
    return sno


def section_text(metadata: dict[str, Any]) -> list[str]:
    """Every sentence of the stored sections, in reading order (for readability checks)."""
    sections = metadata.get("sections") or {}
    return [s for name in SECTION_ORDER for s in sections.get(name, [])]
