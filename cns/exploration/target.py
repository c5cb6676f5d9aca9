"""The exploration target vector (docs/design-notes.md#guided-exploration).

    H_target = normalise(H_i + α · proxy + β · C(S_i, S_j) · (H_i − H_j) / ‖H_i − H_j‖)

The reward gradient is undefined (the critics are not differentiable in H), so ``proxy`` is
either a caller-supplied direction or ``−H_i`` (a step "toward the origin"). The last term
pushes away from the chiral partner ``S_j`` in proportion to how chiral the pair is.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from cns.errors import ValidationError

DEFAULT_ALPHA = 0.1
DEFAULT_BETA = 0.2


def _vector(name: str, value: ArrayLike) -> NDArray[np.float64]:
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)):
        raise ValidationError(f"{name} must be a finite, non-empty 1-D vector, got shape {arr.shape}")
    return arr


def exploration_target(
    h_i: ArrayLike,
    h_j: ArrayLike,
    chirality: float,
    *,
    alpha: float = DEFAULT_ALPHA,
    beta: float = DEFAULT_BETA,
    proxy: ArrayLike | None = None,
) -> NDArray[np.float64]:
    """The unit vector ``H_target``; raises ``ValidationError`` on mismatched or degenerate input."""
    hi, hj = _vector("H_i", h_i), _vector("H_j", h_j)
    step = -hi if proxy is None else _vector("proxy", proxy)
    if not (hi.shape == hj.shape == step.shape):
        raise ValidationError(f"vector dimensions differ: H_i {hi.shape}, H_j {hj.shape}, proxy {step.shape}")
    away = hi - hj
    norm = float(np.linalg.norm(away))
    repulsion = away / norm if norm > 0 else np.zeros_like(hi)
    target = hi + alpha * step + beta * float(chirality) * repulsion
    length = float(np.linalg.norm(target))
    if length == 0:
        raise ValidationError(
            "H_target is the zero vector (alpha cancels H_i); use a smaller alpha or a proxy"
        )
    result: NDArray[np.float64] = target / length
    return result
