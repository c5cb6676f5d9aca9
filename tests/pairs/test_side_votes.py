"""The side check and the cap weigh opposition beyond each narrative's own contradiction."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from cns.config import CNSConfig
from cns.core.sno import StructuredNarrativeObject
from cns.metrics.narrative import statements
from cns.pairs.scoring import candidate_opposition
from cns.pairs.side_votes import by_key, contrasted
from tests.conftest import make_sno


class PairContradiction:
    """p_contra per unordered sentence pair, the remainder split evenly (entailment = neutral)."""

    name, version = "scripted", "1"

    def __init__(self, contra: dict[frozenset[str], float]) -> None:
        self.contra = contra

    def predict(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        cs = [self.contra.get(frozenset(p), 0.0) for p in pairs]
        return np.array([[(1 - c) / 2, (1 - c) / 2, c] for c in cs], dtype=np.float32).reshape(-1, 3)


def debate() -> tuple[list[StructuredNarrativeObject], PairContradiction]:
    """``pro`` and ``con`` each argue one side; ``ov`` lists arguments of both.

    ``pro``'s and ``con``'s own statements agree (p_contra 0.2, d = −0.2); ``ov``'s contradict
    each other (0.9, d = 0.85). ``pro``/``con`` clash (0.85, d = 0.775); ``ov`` against either
    side 0.5 (d = 0.25) — opposed on the raw score, but less than ``ov`` contradicts itself.
    """
    snos = [
        make_sno(f"{n} thesis.", [f"{n} point {k}." for k in range(3)], sno_id=n)
        for n in ("pro", "con", "ov")
    ]
    texts = {s.sno_id: statements(s, 6) for s in snos}
    contra: dict[frozenset[str], float] = {}
    for name, own in (("pro", 0.2), ("con", 0.2), ("ov", 0.9)):
        for a, b in itertools.combinations(texts[name], 2):
            contra[frozenset((a, b))] = own
    for (x, y), c in {("pro", "con"): 0.85, ("ov", "pro"): 0.5, ("ov", "con"): 0.5}.items():
        for a, b in itertools.product(texts[x], texts[y]):
            contra[frozenset((a, b))] = c
    return snos, PairContradiction(contra)


def judged_raw(
    snos: list[StructuredNarrativeObject], nli: PairContradiction, config: CNSConfig
) -> list[tuple[int, int, float, float]]:
    a, b = np.array([0, 2, 2]), np.array([1, 0, 1])  # pro–con, ov–pro, ov–con
    res = candidate_opposition(snos, a, b, config=config.chirality, nli=nli, embedder=None)
    return list(zip(a.tolist(), b.tolist(), res.opposition.tolist(), res.relevance.tolist(), strict=True))


def test_an_overview_that_contradicts_itself_stops_counting_as_an_opponent() -> None:
    snos, nli = debate()
    config = CNSConfig()
    raw = judged_raw(snos, nli, config)
    # raw: every pair reaches θ_O 0.25 — the overview looks opposed to both sides
    assert [round(o, 3) for _, _, o, _ in raw] == [0.775, 0.25, 0.25]
    votes, spent = contrasted(snos, raw, config, nli=nli, embedder=None)
    assert spent > 0
    # pro–con: contrast 0.775 − (−0.2) ≫ 0.1, the score stays; ov–side: contrast
    # 0.25 − (0.85 − 0.2) / 2 = −0.075 < −0.05, the statement score is ramped to 0
    assert [round(o, 3) for _, _, o, _ in votes] == [0.775, 0.0, 0.0]
    assert [(i, j, r) for i, j, _, r in votes] == [(i, j, r) for i, j, _, r in raw]
    weights = by_key(snos, votes)
    assert weights[("con", "pro")] == pytest.approx(0.775, abs=1e-3)
    assert weights[("ov", "pro")] == 0.0


def test_off_or_another_method_leaves_the_votes_raw() -> None:
    snos, nli = debate()
    raw = judged_raw(snos, nli, CNSConfig())
    off = CNSConfig(pair_search={"side_contrast": False})
    assert contrasted(snos, raw, off, nli=nli, embedder=None) == (raw, 0)
    other = CNSConfig(chirality={"method": "nli"})
    assert contrasted(snos, raw, other, nli=nli, embedder=None) == (raw, 0)
    assert contrasted(snos, raw, CNSConfig(), nli=None, embedder=None) == (raw, 0)


def test_by_key_keeps_the_strongest_route() -> None:
    snos, _ = debate()
    assert by_key(snos, [(0, 1, 0.3, 1.0), (1, 0, 0.6, 1.0)]) == {("con", "pro"): 0.6}
