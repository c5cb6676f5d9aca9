"""Value types of the chiral-pair search: pairs, conflict points, options and statistics.

Kept apart from the search so the synthesis engine and the workflow manager can import them
without pulling in scipy or any model code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from cns.core.pair_json import pair_json
from cns.core.sno import StructuredNarrativeObject
from cns.metrics.shared_facts import EvidenceMatch

PairSource = Literal["evidence", "opposition"]


def pair_key(id_a: str, id_b: str) -> tuple[str, str]:
    """The unordered identity of a pair: ``(min_id, max_id)`` (synthesis attempt records use it)."""
    return (id_a, id_b) if id_a <= id_b else (id_b, id_a)


@dataclass(frozen=True)
class ConflictPoint:
    """Two statements, one from each narrative, that contradict each other by NLI.

    ``kind`` is ``hypothesis`` for the always-listed hypothesis-vs-hypothesis conflict and
    ``claim`` for a pair of sub-claims; ``p_contra = max(p_contra(a→b), p_contra(b→a))``.
    """

    kind: Literal["hypothesis", "claim"]
    claim_a: str
    claim_b: str
    text_a: str
    text_b: str
    p_contra: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "claim_a": self.claim_a,
            "claim_b": self.claim_b,
            "text_a": self.text_a,
            "text_b": self.text_b,
            "p_contra": self.p_contra,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConflictPoint:
        """The conflict point of :meth:`to_dict` (how a stored pair is rebuilt)."""
        kind: Literal["hypothesis", "claim"] = "hypothesis" if data.get("kind") == "hypothesis" else "claim"
        return cls(
            kind,
            str(data.get("claim_a", "")),
            str(data.get("claim_b", "")),
            str(data.get("text_a", "")),
            str(data.get("text_b", "")),
            float(data.get("p_contra", 0.0)),
        )


@dataclass
class ChiralPair:
    """Two narratives that oppose each other while sharing evidence (docs/opposition.md).

    ``sno_a`` is the SNO with the smaller id, so a pair has one canonical orientation.
    ``shared_evidence`` holds canonical evidence keys; ``evidence_matches`` lists everything the
    pair shares and how: ``key`` (identical canonical key, weight 1) or ``fact`` (two items that
    state the same fact, with the NLI score; weight ``evidence_matching.fact_weight``), with
    ``text_a`` from ``sno_a``. ``opposition`` is the stance term before multiplying by
    ``T_a · T_b``; ``source`` says whether the pair came from shared evidence or from the optional
    opposition search (then ``entanglement`` is 0).
    """

    sno_a: StructuredNarrativeObject
    sno_b: StructuredNarrativeObject
    chirality: float
    entanglement: float
    potential: float
    shared_evidence: frozenset[str]
    conflict_points: list[ConflictPoint] = field(default_factory=list)
    opposition: float = 0.0
    source: PairSource = "evidence"
    evidence_matches: list[EvidenceMatch] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        return pair_key(self.sno_a.sno_id, self.sno_b.sno_id)

    def scores(self) -> dict[str, float]:
        return {
            "chirality": self.chirality,
            "entanglement": self.entanglement,
            "potential": self.potential,
            "opposition": self.opposition,
        }

    def to_dict(self) -> dict[str, Any]:
        """The pair's JSON (:func:`~cns.core.pair_json.pair_json`): ids and scores, not the SNOs."""
        return pair_json(
            sno_a=self.sno_a.sno_id,
            sno_b=self.sno_b.sno_id,
            chirality=self.chirality,
            entanglement=self.entanglement,
            potential=self.potential,
            opposition=self.opposition,
            source=self.source,
            shared_evidence=self.shared_evidence,
            evidence_matches=[m.to_dict() for m in self.evidence_matches],
            conflict_points=[c.to_dict() for c in self.conflict_points],
        )


@dataclass(frozen=True, slots=True)
class JudgedCandidate:
    """A candidate pair the search scored, with its scores and what stopped it (None: reported).

    ``route`` is how it became a candidate: ``evidence`` (it shares evidence) or ``opposition``
    (topic neighbours that share none). ``relevance`` is the topic gate (0: two different
    questions). ``stopped_by`` names the first rule it failed (:mod:`cns.pairs.verdict`):
    ``opposition``, ``chirality``, ``entanglement``, ``potential``, ``topic gate``, then
    ``side check`` (both narratives on one side) or ``max pairs`` (beyond
    ``population.max_pairs``). The report's near misses and ``cns why`` read these.
    """

    sno_a: str
    sno_b: str
    route: PairSource
    opposition: float
    relevance: float
    chirality: float
    entanglement: float
    potential: float
    stopped_by: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return pair_key(self.sno_a, self.sno_b)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sno_a": self.sno_a,
            "sno_b": self.sno_b,
            "route": self.route,
            "opposition": self.opposition,
            "topic_gate": self.relevance,
            "chirality": self.chirality,
            "entanglement": self.entanglement,
            "potential": self.potential,
            "stopped_by": self.stopped_by,
        }


@dataclass(frozen=True)
class PairSearchOptions:
    """Tunables of the search that are not (yet) config keys; the defaults suit 10⁵ SNOs.

    * ``stop_key_max_postings`` — an evidence key held by more SNOs than this is a *stop key*:
      it is not expanded into candidate pairs (a key shared by thousands of narratives, such as a
      generic encyclopaedia page, would create millions of weak pairs). Stop keys still count in
      the exact Jaccard of every candidate found through another key; only pairs whose sole
      shared evidence is stop keys are missed. The count is reported in the statistics.
    * ``max_scored_candidates`` — at most this many candidates get a chirality (NLI) score,
      best upper bound first; the search stops earlier once no remaining candidate can enter
      the top ``max_pairs`` (then the result is exact, ``stats.exact``).
    * ``nli_batch_size`` — candidates scored per NLI call.
    * ``opposition_search`` / ``opposition_neighbours`` — override ``pair_search.topic_neighbours``:
      also look for opposed pairs with no shared evidence among each SNO's k nearest topic
      neighbours (``None`` = the config; ``False`` = off).
    """

    stop_key_max_postings: int = 256
    max_scored_candidates: int = 2000
    nli_batch_size: int = 1024
    DEFAULT_NEIGHBOURS: ClassVar[int] = 20  # when forced on while the config says 0

    opposition_search: bool | None = None
    opposition_neighbours: int | None = None
    conflict_threshold: float = 0.5
    max_conflict_points: int = 5
    max_claims_per_side: int = 10
    max_pairs: int | None = None

    def __post_init__(self) -> None:
        for name in ("stop_key_max_postings", "max_scored_candidates", "nli_batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"PairSearchOptions.{name} must be >= 1, got {getattr(self, name)}")
        if not 0.0 <= self.conflict_threshold <= 1.0:
            raise ValueError(f"conflict_threshold must be in [0, 1], got {self.conflict_threshold}")


@dataclass
class PairSearchStats:
    """What the search did, for logs, benchmarks and the ``exact`` guarantee.

    ``exact`` means best-first scoring proved that no unscored candidate could enter the result,
    so the pairs equal the brute-force result *over the candidates*. Candidates exclude pairs whose
    only shared evidence is stop keys; ``stop_keys == 0`` means none were excluded.
    """

    population: int = 0
    eligible: int = 0
    keys: int = 0
    stop_keys: int = 0
    stop_key_postings: int = 0
    raw_candidates: int = 0
    entangled_candidates: int = 0
    scored_candidates: int = 0
    nli_pairs: int = 0
    opposition_candidates: int = 0
    fact_items: int = 0
    fact_judged_pairs: int = 0
    fact_matches: int = 0
    fact_pairs: int = 0
    same_side_dropped: int = 0
    exact: bool = True
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)
