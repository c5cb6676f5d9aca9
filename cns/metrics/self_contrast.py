"""How much more two narratives contradict each other than each contradicts itself.

An NLI model reads two statements that stress different points of one position ("medical groups
call for a ban on boxing" / "amateur boxers risk brain damage") as partly contradictory. On the
debate DEV corpus the shipped model gives the statement pairs *inside one document* a mean
``d = p_contra − p_entail`` of about 0.4, and two halves of one document score against each other
what each document scores against itself. So a raw statement-pair score cannot tell two authors of
one side from two opponents; what does is the *excess*:

    contrast = mean d of the judged cross pairs − mean(self_A, self_B)

where ``self_X`` is the mean ``d`` over pairs of ``X``'s own statements. A document agrees with
itself, so ``self_X`` is the model's false-contradiction level for that kind of text (its topic,
length and style), measured on the spot instead of assumed. Two narratives of one side contradict
each other about as much as each contradicts itself (contrast ≈ 0); opponents more. The
statement score is multiplied by a ramp of the contrast (:func:`contrast_gate`), so a pair that
is no more contradictory than its own members is not opposed.

A mean, not a top-k: the strongest few pairs are noise in both cases (same-side halves have their
share of clashing pairs); what differs is how contradictory the two narratives are on the whole.
Measured on DEV (two halves of one side against the other side): AUC opposite vs same side 0.87
for the contrast against 0.74 for the statement score alone. On long essays that cite the same
papers it carries no signal (AUC 0.43 on the bundled examples), so the narrative score applies it
only to pairs that share no evidence, unless ``chirality.contrast_shared_evidence``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

#: pairs of one narrative's own statements judged for its self level, at most (bounds the cost)
MAX_SELF_PAIRS = 21


def self_pairs(statements: Sequence[str]) -> list[tuple[str, str]]:
    """Unordered pairs of one narrative's statements (``i < j``), at most :data:`MAX_SELF_PAIRS`."""
    found = [(a, b) for i, a in enumerate(statements) for b in statements[i + 1 :] if a != b]
    return found[:MAX_SELF_PAIRS]


def self_level(statements: Sequence[str], d: Callable[[str, str], float]) -> float | None:
    """Mean ``d`` over the narrative's own statement pairs; None when it has fewer than two."""
    pairs = self_pairs(statements)
    return float(np.mean([d(a, b) for a, b in pairs])) if pairs else None


def contrast(cross: Sequence[float], self_a: float | None, self_b: float | None) -> float | None:
    """Mean cross ``d`` minus the mean self level; None when neither narrative has a self level."""
    levels = [s for s in (self_a, self_b) if s is not None]
    if not cross or not levels:
        return None
    return float(np.mean(cross)) - float(np.mean(levels))


def contrast_gate(value: float | None, low: float, high: float) -> float:
    """0 at or below ``low``, 1 at or above ``high``, linear between; 1 when nothing is known."""
    if value is None:
        return 1.0
    return float(min(1.0, max(0.0, (value - low) / (high - low))))
