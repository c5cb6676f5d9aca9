"""Synthesis potential: how promising a pair is for synthesis.

``P = sqrt(C · E) · (1 + 0.2 · (1 − |C − E|))`` — the geometric mean rewards pairs that are both
opposed *and* entangled, and the bonus favours balanced pairs. 0 if either input is ≤ 0.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def synthesis_potential(chirality: ArrayLike, entanglement: ArrayLike) -> NDArray[np.float64]:
    """Element-wise potential of chirality ``C`` and entanglement ``E`` (scalars or arrays)."""
    c = np.asarray(chirality, dtype=np.float64)
    e = np.asarray(entanglement, dtype=np.float64)
    valid = (c > 0) & (e > 0)
    base = np.sqrt(np.where(valid, c * e, 0.0))
    result: NDArray[np.float64] = np.where(valid, base * (1.0 + 0.2 * (1.0 - np.abs(c - e))), 0.0)
    return result
