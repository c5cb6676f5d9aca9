"""EmbeddedNLI: contract of predict(), load errors, and a behavioural sanity check on TEST pairs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from cns.models import data_splits as ds
from cns.models.nli_embedded import EmbeddedNLI, length_batches
from cns.models.sentence_vectors import SentenceVectors

PAIRS = [
    ("A man is playing a guitar on stage.", "A man is playing an instrument."),
    ("A man is playing a guitar on stage.", "A man is sleeping in his bed."),
    ("Two dogs run through a snowy field.", "Animals are outside."),
    ("A woman is cutting vegetables.", "Nobody is cutting anything."),
]


@pytest.fixture(scope="module")
def nli() -> Iterator[EmbeddedNLI]:
    # load time is a benchmark's business (benchmarks/nli_speed.py), not a unit test's: a timing
    # assert here failed on a loaded machine without anything being wrong
    yield EmbeddedNLI(batch_size=16, num_threads=2)


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


def test_repeated_pairs_are_computed_once_and_answered_in_order(nli: EmbeddedNLI) -> None:
    calls: list[int] = []
    original = nli._logits_batch

    def counting(batch: list[tuple[str, str]], ids: list[list[int]], types: list[list[int]]) -> Any:
        calls.append(len(batch))
        return original(batch, ids, types)

    nli._logits_batch = counting  # type: ignore[method-assign]
    try:
        out = nli.predict([PAIRS[0], PAIRS[1], PAIRS[0], PAIRS[0]])
    finally:
        del nli._logits_batch
    assert sum(calls) == 2
    np.testing.assert_array_equal(out[0], out[2])
    np.testing.assert_allclose(out[:2], nli.predict(PAIRS[:2]), atol=1e-5)


def test_length_batches_bound_padding_and_cover_every_pair_once() -> None:
    lengths = [30, 56, 31, 52, 33, 44, 29, 56, 12]
    batches = length_batches(lengths, max_items=3, max_padding=0.1)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for batch in batches:
        widths = [lengths[i] for i in batch]
        assert len(batch) <= 3 and widths == sorted(widths)
        assert len(batch) == 1 or max(widths) * len(batch) <= 1.1 * sum(widths)
    assert length_batches([], 8) == []
    assert length_batches([5] * 10, 4) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


@pytest.fixture(scope="module")
def minilm() -> Any:
    from cns.models.embedder_st import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@pytest.fixture(scope="module")
def fused() -> EmbeddedNLI:
    """Version 2, which ships a cosine fusion (the current weights do not: DEV preferred them without)."""
    from cns.models.nli_embedded import DEFAULT_WEIGHTS_DIR

    model = EmbeddedNLI(DEFAULT_WEIGHTS_DIR / "v2", batch_size=16, num_threads=2)
    assert model.metadata["fusion"]["cos_weights"]
    return model


def test_vectors_from_the_same_encoder_replace_the_fusion_encoding(fused: EmbeddedNLI, minilm: Any) -> None:
    nli = fused
    texts = sorted({t for pair in PAIRS for t in pair})
    assert minilm.encoder_identity == nli.sentence_encoder  # same base MiniLM folder
    supplied = SentenceVectors(
        minilm.encoder_identity, minilm.max_tokens, dict(zip(texts, minilm.encode(texts), strict=True))
    )
    np.testing.assert_allclose(nli.predict(PAIRS, sentence_vectors=supplied), nli.predict(PAIRS), atol=1e-4)
    # proof that they are used: deliberately wrong vectors (all the same: cosine 1) change the answer
    same = next(iter(supplied.vectors.values()))
    wrong = dict.fromkeys(supplied.vectors, same)
    assert not np.allclose(
        nli.predict(PAIRS, sentence_vectors=SentenceVectors(supplied.encoder, 256, wrong)), nli.predict(PAIRS)
    )
    # ... and with another encoder's identity, or when truncation could differ, they are ignored
    foreign = SentenceVectors("/some/other/model", 256, wrong)
    np.testing.assert_allclose(nli.predict(PAIRS, sentence_vectors=foreign), nli.predict(PAIRS), atol=1e-6)
    short_limit = SentenceVectors(supplied.encoder, 4, wrong)
    np.testing.assert_allclose(
        nli.predict(PAIRS, sentence_vectors=short_limit), nli.predict(PAIRS), atol=1e-6
    )


def test_raw_returns_plain_tensors_usable_with_autograd(nli: EmbeddedNLI) -> None:
    import torch

    logits, cos = nli.raw(PAIRS)
    weight = torch.ones(1, requires_grad=True)
    (logits * weight + cos[:, None]).sum().backward()  # type: ignore[no-untyped-call]  # inference tensors would refuse this
    assert weight.grad is not None


def test_bf16_is_opt_in_close_to_fp32_and_versioned_apart(nli: EmbeddedNLI) -> None:
    with pytest.raises(ValueError, match="precision"):
        EmbeddedNLI(precision="fp16")  # type: ignore[arg-type]
    fast = EmbeddedNLI(precision="bf16")
    assert fast.version == f"{nli.version}-bf16"  # caches never mix fp32 and bf16 judgements
    np.testing.assert_allclose(fast.predict(PAIRS), nli.predict(PAIRS), atol=0.02)


@pytest.fixture(scope="module")
def int8() -> Iterator[EmbeddedNLI]:
    yield EmbeddedNLI(batch_size=16, precision="int8")


def test_int8_gives_the_fp32_labels_and_is_versioned_apart(nli: EmbeddedNLI, int8: EmbeddedNLI) -> None:
    from torch import nn

    from cns.models.embedded.quantize import RowScaledInt8Linear

    assert int8.version == f"{nli.version}-int8"  # caches never mix fp32 and int8 judgements
    layer = int8._net.bert.encoder.layer[0]
    assert isinstance(layer.intermediate.dense, RowScaledInt8Linear)
    assert type(int8._net.head) is nn.Linear  # the head mixes scales one int8 scale would crush
    fixed = [
        *PAIRS,
        ("The cat sat on the red mat.", "A cat is sitting."),
        ("The cat sat on the red mat.", "No animal is on the mat."),
    ]
    full, quantized = nli.predict(fixed), int8.predict(fixed)
    np.testing.assert_array_equal(quantized.argmax(1), full.argmax(1))
    assert np.abs(quantized - full).max() < 0.1  # quantization noise, not another model
    assert not np.array_equal(quantized, full)  # and it did run quantized


def test_int8_judges_a_pair_the_same_in_any_batch(int8: EmbeddedNLI) -> None:
    """Plain dynamic quantization scales a whole batch at once, so company changed answers."""
    together = int8.predict(PAIRS)
    alone = np.concatenate([int8.predict([pair]) for pair in PAIRS])
    np.testing.assert_allclose(together, alone, atol=1e-6)
    np.testing.assert_allclose(int8.predict(PAIRS[::-1])[::-1], together, atol=1e-6)


@pytest.mark.parametrize("folder", ["v2", "v1"])
def test_int8_leaves_the_fusion_sentence_encoder_in_fp32(folder: str) -> None:
    """Supplied fp32 sentence vectors must give what the model computes itself, in every precision.

    Version 1 shares its four frozen bottom layers between cross-encoder and sentence encoder, so
    quantizing must give the sentence encoder its own fp32 copy first.
    """
    from cns.models.nli_embedded import DEFAULT_WEIGHTS_DIR

    where = DEFAULT_WEIGHTS_DIR / folder
    texts = {t for pair in PAIRS for t in pair}
    full, quantized = (
        EmbeddedNLI(where)._embed_texts(texts),
        EmbeddedNLI(where, precision="int8")._embed_texts(texts),
    )
    for text in texts:
        np.testing.assert_array_equal(quantized[text].numpy(), full[text].numpy())


def test_weights_without_fusion_load_no_sentence_encoder_and_ignore_supplied_vectors(
    tmp_path: Path, fused: EmbeddedNLI, minilm: Any
) -> None:
    """A version whose fusion DEV rejected (``fusion: null``) is the cross-encoder alone."""
    import json
    import shutil

    from cns.models.nli_embedded import DEFAULT_WEIGHTS_DIR

    meta = dict(fused.metadata, fusion=None)
    (tmp_path / "embedded_nli.json").write_text(json.dumps(meta))
    shutil.copy(DEFAULT_WEIGHTS_DIR / "v2" / meta["weights_file"], tmp_path / meta["weights_file"])
    plain = EmbeddedNLI(tmp_path, batch_size=16)
    assert getattr(plain._net, "base_top", None) is None  # no frozen copy of the base layers kept
    logits, cos = plain.raw(PAIRS)
    assert not cos.any()
    np.testing.assert_allclose(plain.predict(PAIRS), torch.softmax(logits, -1).numpy(), atol=1e-6)
    # the same cross-encoder as the fused model: only the fusion differs
    np.testing.assert_allclose(logits.numpy(), fused.raw(PAIRS)[0].numpy(), atol=1e-5)
    texts = sorted({t for pair in PAIRS for t in pair})
    same = minilm.encode(texts[:1])[0]
    wrong = SentenceVectors(minilm.encoder_identity, minilm.max_tokens, dict.fromkeys(texts, same))
    np.testing.assert_array_equal(plain.predict(PAIRS, sentence_vectors=wrong), plain.predict(PAIRS))
