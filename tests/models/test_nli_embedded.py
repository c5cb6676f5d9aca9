"""EmbeddedNLI: contract of predict(), load errors, and a behavioural sanity check on TEST pairs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from cns.models import data_splits as ds
from cns.models.nli_embedded import EmbeddedNLI

PAIRS = [
    ("A man is playing a guitar on stage.", "A man is playing an instrument."),
    ("A man is playing a guitar on stage.", "A man is sleeping in his bed."),
    ("Two dogs run through a snowy field.", "Animals are outside."),
    ("A woman is cutting vegetables.", "Nobody is cutting anything."),
]


@pytest.fixture(scope="module")
def nli() -> Iterator[EmbeddedNLI]:
    start = time.perf_counter()
    model = EmbeddedNLI(batch_size=16, num_threads=2)
    assert time.perf_counter() - start < 15.0  # ~1 s warm; generous for a cold CI disk
    yield model


def test_name_and_version(nli: EmbeddedNLI) -> None:
    assert nli.name == "embedded-nli"
    assert len(nli.version) == 12
    assert nli.metadata["n_top"] >= 1


def test_empty_input(nli: EmbeddedNLI) -> None:
    out = nli.predict([])
    assert out.shape == (0, 3)
    assert out.dtype == np.float32


def test_shapes_probabilities_and_determinism(nli: EmbeddedNLI) -> None:
    out = nli.predict(PAIRS)
    assert out.shape == (len(PAIRS), 3)
    assert out.dtype == np.float32
    assert np.all(out >= 0)
    np.testing.assert_allclose(out.sum(1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(out, nli.predict(PAIRS))


def test_batching_and_order_do_not_change_results(nli: EmbeddedNLI) -> None:
    together = nli.predict(PAIRS)
    reversed_rows = nli.predict(PAIRS[::-1])[::-1]
    single = np.concatenate([nli.predict([p]) for p in PAIRS[:2]])
    np.testing.assert_allclose(together, reversed_rows, atol=1e-4)
    np.testing.assert_allclose(together[:2], single, atol=1e-4)


def test_obvious_entailment_beats_contradiction(nli: EmbeddedNLI) -> None:
    out = nli.predict(PAIRS[:2])
    score = out[:, 0] - out[:, 2]
    assert score[0] > score[1]


def test_fever_test_pairs_are_ranked_sensibly(nli: EmbeddedNLI) -> None:
    """On 20 TEST claims (40 pairs) the supporting evidence must usually outscore the refuting one.

    A random scorer wins ~50 % of claims (p(>= 14 of 20) ~ 6 %); the shipped model wins 17 of 20.
    """
    pairs = ds.fever_pairs("test")
    claims = sorted({c for _, c, _ in pairs})[:20]
    chosen = [p for p in pairs if p[1] in claims]
    probs = nli.predict([(e, c) for e, c, _ in chosen])
    score = probs[:, 0] - probs[:, 2]
    by_claim: dict[str, dict[int, float]] = {}
    for (_, claim, label), s in zip(chosen, score, strict=True):
        by_claim.setdefault(claim, {})[label] = float(s)
    wins = sum(v[1] > v[0] for v in by_claim.values())
    assert wins >= 14


def test_missing_weights_raise_runtime_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="weights"):
        EmbeddedNLI(tmp_path)


def test_missing_base_model_raises_runtime_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="base"):
        EmbeddedNLI(base_model_path=tmp_path)
