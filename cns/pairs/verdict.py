"""Which rule of the pair trigger a judged pair passed, and which one stopped it.

The search filters whole batches with array masks (:mod:`cns.pairs.ranking` for pairs that share
evidence, :mod:`cns.pairs.opposition` for topic neighbours); this module states the same rules
one pair at a time, in the order a person reads them, so ``cns why``, the report's near misses
and the search's record of every judged pair (:class:`~cns.pairs.types.JudgedCandidate`) all
name the same threshold. A test checks that the two agree on every judged pair.

* pairs that share evidence (``route="evidence"``): opposition ≥ ``synthesis_thresholds.opposition``,
  chirality ≥ ``synthesis_thresholds.chirality``, entanglement ≥ ``synthesis_thresholds.entanglement``
  (and > 0), potential ≥ ``synthesis_thresholds.potential`` (and > 0);
* topic neighbours that share none (``route="opposition"``): the topic gate is open (the two are
  about one question), opposition ≥ θ_O, chirality ≥ θ_C.

After these, the side check (``pair_search.side_consistency``) and the cap on reported pairs
(``population.max_pairs``) can still drop a pair that passed.
"""

from __future__ import annotations

from dataclasses import dataclass

from cns.config.settings import SynthesisThresholds
from cns.pairs.types import PairSource

#: names of the stops after the threshold rules, as they appear in ``JudgedCandidate.stopped_by``
SIDE_CHECK = "side check"
MAX_PAIRS = "max pairs"
#: the config key behind each stop, for messages a person can act on
SETTING = {
    "topic gate": "chirality.topic_gate",
    "opposition": "synthesis_thresholds.opposition",
    "chirality": "synthesis_thresholds.chirality",
    "entanglement": "synthesis_thresholds.entanglement",
    "potential": "synthesis_thresholds.potential",
    SIDE_CHECK: "pair_search.side_consistency",
    MAX_PAIRS: "population.max_pairs",
}


@dataclass(frozen=True)
class Check:
    """One rule: the pair's value, the threshold it must reach, whether it did."""

    name: str
    value: float
    threshold: float
    passed: bool

    @property
    def setting(self) -> str:
        return SETTING[self.name]

    def describe(self) -> str:
        if self.name == "topic gate":
            return f"topic gate {self.value:.3f} ({'open' if self.passed else 'closed: different questions'})"
        sign = "≥" if self.passed else "<"
        return f"{self.name} {self.value:.4f} {sign} {self.threshold:.4f} ({self.setting})"


def checks(
    route: PairSource,
    *,
    opposition: float,
    relevance: float,
    chirality: float,
    entanglement: float,
    potential: float,
    thresholds: SynthesisThresholds,
) -> list[Check]:
    """The trigger's rules for a pair judged on ``route``, in order; each with its outcome."""
    th = thresholds
    if route == "opposition":
        return [
            Check("topic gate", relevance, 0.0, relevance > 0),
            Check("opposition", opposition, th.opposition, opposition >= th.opposition),
            Check("chirality", chirality, th.chirality, chirality >= th.chirality),
        ]
    return [
        Check("opposition", opposition, th.opposition, opposition >= th.opposition),
        Check("chirality", chirality, th.chirality, chirality >= th.chirality),
        Check(
            "entanglement",
            entanglement,
            th.entanglement,
            entanglement >= th.entanglement and entanglement > 0,
        ),
        Check("potential", potential, th.potential, potential >= th.potential and potential > 0),
    ]


def first_failure(found: list[Check]) -> Check | None:
    """The rule that stopped the pair (the first that failed), or None when all passed."""
    return next((c for c in found if not c.passed), None)
