"""Synthesis strategy selection from a pair's chirality and entanglement.

Rules, checked in order: ``C > .8 and E > .7`` → DIALECTICAL; ``E > .8 and C > .5`` →
EVIDENTIAL; ``C < .6`` → COMPLEMENTARY; otherwise TRANSCENDENT. Every strategy shares the
dialectical prompt and adds one sentence of strategy-specific guidance (:data:`STRATEGY_GUIDANCE`).
"""

from __future__ import annotations

from enum import StrEnum


class SynthesisStrategy(StrEnum):
    COMPLEMENTARY = "complementary"
    DIALECTICAL = "dialectical"
    TRANSCENDENT = "transcendent"
    EVIDENTIAL = "evidential"


STRATEGY_GUIDANCE: dict[SynthesisStrategy, str] = {
    SynthesisStrategy.DIALECTICAL: (
        "The narratives are strongly opposed and heavily entangled: find the higher-order account that "
        "explains why the same evidence was read in opposite ways."
    ),
    SynthesisStrategy.EVIDENTIAL: (
        "The narratives rest on nearly the same evidence: decide, claim by claim, what that evidence "
        "actually supports, and state what further evidence would settle the rest."
    ),
    SynthesisStrategy.COMPLEMENTARY: (
        "The narratives are only mildly opposed: state the conditions or scopes under which each one holds."
    ),
    SynthesisStrategy.TRANSCENDENT: (
        "Reframe the question so that both narratives become special cases of a broader account."
    ),
}


def select_strategy(chirality: float, entanglement: float) -> SynthesisStrategy:
    """The strategy rule above for a pair's chirality ``C`` and entanglement ``E``."""
    if chirality > 0.8 and entanglement > 0.7:
        return SynthesisStrategy.DIALECTICAL
    if entanglement > 0.8 and chirality > 0.5:
        return SynthesisStrategy.EVIDENTIAL
    if chirality < 0.6:
        return SynthesisStrategy.COMPLEMENTARY
    return SynthesisStrategy.TRANSCENDENT
