"""Self contrast: a pair is opposed only as far as it contradicts more than each side contradicts itself."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from cns.config.settings import ChiralityConfig
from cns.core.sno import StructuredNarrativeObject
from cns.metrics import narrative_opposition
from cns.metrics.narrative import statements
from cns.metrics.self_contrast import MAX_SELF_PAIRS, contrast, contrast_gate, self_level, self_pairs
from tests.conftest import make_sno


class PairContradiction:
    """p_contra per unordered sentence pair (default ``rest``), the remainder split evenly."""

    name, version = "scripted", "1"

    def __init__(self, contra: dict[frozenset[str], float], rest: float = 0.0) -> None:
        self.contra, self.rest = contra, rest

    def predict(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        cs = [self.contra.get(frozenset(p), self.rest) for p in pairs]
        return np.array([[(1 - c) / 2, (1 - c) / 2, c] for c in cs], dtype=np.float32).reshape(-1, 3)


def d_of(c: float) -> float:
    """``d = p_contra − p_entail`` of a scripted pair."""
    return c - (1 - c) / 2


def narrative(name: str) -> StructuredNarrativeObject:
    return make_sno(f"{name} thesis.", [f"{name} point {k}." for k in range(3)], sno_id=name)


def halves_scenario() -> tuple[list[StructuredNarrativeObject], PairContradiction]:
    """``pro`` against ``con1`` and ``con2``, the two halves of one document.

    The model finds every narrative's own statements partly contradictory (p_contra 0.6). The
    halves clash hard on three claim pairs and mildly elsewhere: their top pairs look like strong
    opposition, their mean is *below* what each half scores against itself. ``pro`` contradicts
    both halves more than anyone contradicts itself, ``con2`` a little less than ``con1``.
    """
    snos = [narrative(n) for n in ("pro", "con1", "con2")]
    texts = {s.sno_id: statements(s, 6) for s in snos}
    contra: dict[frozenset[str], float] = {}
    for sno_texts in texts.values():
        for a, b in itertools.combinations(sno_texts, 2):
            contra[frozenset((a, b))] = 0.6
    cross = {("pro", "con1"): 0.85, ("pro", "con2"): 0.8}
    for (x, y), c in cross.items():
        for a, b in itertools.product(texts[x], texts[y]):
            contra[frozenset((a, b))] = c
    for k, (a, b) in enumerate(itertools.product(texts["con1"], texts["con2"])):
        contra[frozenset((a, b))] = 0.6 if k == 0 else 1.0 if k in (5, 10, 15) else 0.4
    return snos, PairContradiction(contra)


def test_helpers() -> None:
    assert self_pairs(["a", "b", "c"]) == [("a", "b"), ("a", "c"), ("b", "c")]
    assert self_pairs(["a"]) == [] and len(self_pairs([str(k) for k in range(30)])) == MAX_SELF_PAIRS
    assert self_level(["a"], lambda x, y: 1.0) is None
    assert self_level(["a", "b", "c"], lambda x, y: 0.3 if "a" in (x, y) else 0.6) == pytest.approx(0.4)
    assert contrast([0.5, 0.7], 0.2, 0.4) == pytest.approx(0.3)
    assert contrast([0.5], None, 0.4) == pytest.approx(0.1)  # the side that has a level
    assert contrast([0.5], None, None) is None and contrast([], 0.1, 0.1) is None
    assert contrast_gate(None, 0.0, 0.1) == 1.0  # nothing to compare with: the score stands
    assert contrast_gate(-0.2, -0.05, 0.1) == 0.0 and contrast_gate(0.3, -0.05, 0.1) == 1.0
    assert contrast_gate(0.025, -0.05, 0.1) == pytest.approx(0.5)


def test_halves_of_one_document_are_not_opposed_but_their_opponent_is() -> None:
    snos, nli = halves_scenario()
    pro, con1, con2 = snos
    result = narrative_opposition(
        [(con1, con2), (pro, con1), (pro, con2)], nli=nli, config=ChiralityConfig(self_contrast=True)
    )
    halves, first, second = result.scores.tolist()
    # the halves' own mean is below their self level: no opposition at all
    assert result.details[0]["contrast"] < 0 and halves == 0.0
    assert first == pytest.approx(d_of(0.85)) and second == pytest.approx(d_of(0.8))
    assert result.details[2]["contrast"] == pytest.approx(d_of(0.8) - d_of(0.6))
    # without the self contrast the halves outscore the weaker true pair (the old failure)
    plain = narrative_opposition(
        [(con1, con2), (pro, con2)], nli=nli, config=ChiralityConfig(self_contrast=False)
    ).scores.tolist()
    assert plain[0] > plain[1]


def test_pairs_that_share_no_evidence_are_contrasted() -> None:
    snos, nli = halves_scenario()
    pro, con1, con2 = snos
    assert not ChiralityConfig().self_contrast  # opt-in (docs/opposition.md says why)
    on = ChiralityConfig(self_contrast=True)
    assert on.contrast_gate == (-0.05, 0.1) and not on.contrast_shared_evidence
    result = narrative_opposition([(con1, con2), (pro, con2)], nli=nli, config=on)
    halves, true = result.scores.tolist()
    # halves: mean cross d (0.4 + 3 · 1.0 + 12 · 0.1) / 16 = 0.2875 against 0.4 within each
    assert result.details[0]["contrast"] == pytest.approx(0.2875 - d_of(0.6)) and halves == 0.0
    assert result.details[1]["contrast"] == pytest.approx(0.3) and true == pytest.approx(d_of(0.8))


def test_pairs_that_share_evidence_are_left_alone_unless_asked() -> None:
    """Shared evidence: the raw score stands (no self pairs judged) unless
    ``contrast_shared_evidence``; the ramp between its two values is linear."""
    snos, nli = halves_scenario()
    pro, con1, con2 = snos
    pairs = [(con1, con2), (pro, con2)]
    shared = [[("the 2019 survey", "the 2019 survey")]] * 2
    default = narrative_opposition(pairs, nli=nli, shared=shared, config=ChiralityConfig(self_contrast=True))
    plain = narrative_opposition(pairs, nli=nli, shared=shared, config=ChiralityConfig(self_contrast=False))
    assert [d["contrast"] for d in default.details] == [None, None]
    assert default.scores.tolist() == pytest.approx(plain.scores.tolist())
    assert default.scores[0] == pytest.approx(0.4 * d_of(0.6) + 0.6 * d_of(1.0))  # 0.76: the clash
    assert default.nli_pairs == plain.nli_pairs
    forced = narrative_opposition(
        pairs,
        nli=nli,
        shared=shared,
        config=ChiralityConfig(self_contrast=True, contrast_shared_evidence=True),
    )
    assert forced.scores[0] == 0.0 and forced.details[1]["contrast"] == pytest.approx(0.3)
    assert forced.nli_pairs > default.nli_pairs  # the self pairs are judged only when used
    # contrast −0.1125 halfway up a ramp (−0.2, −0.025): weight 0.5
    half = ChiralityConfig(self_contrast=True, contrast_shared_evidence=True, contrast_gate=(-0.2, -0.025))
    ramped = narrative_opposition(pairs[:1], nli=nli, shared=shared[:1], config=half)
    assert ramped.scores[0] == pytest.approx(0.5 * default.scores[0])


def test_symmetric_and_bounded() -> None:
    snos, nli = halves_scenario()
    pairs = [(a, b) for a in snos for b in snos if a is not b]
    on = ChiralityConfig(self_contrast=True)
    forward = narrative_opposition(pairs, nli=nli, config=on).scores
    backward = narrative_opposition([(b, a) for a, b in pairs], nli=nli, config=on).scores
    assert forward == pytest.approx(backward, abs=1e-12)
    assert np.all((forward >= 0) & (forward <= 1))


def test_contrast_gate_bounds_are_validated() -> None:
    from cns.config import CNSConfig
    from cns.errors import ConfigError

    with pytest.raises(ConfigError, match="contrast_gate"):
        CNSConfig(chirality={"contrast_gate": [0.1, 0.0]})
