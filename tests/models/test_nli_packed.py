"""Packed (padding-free) inference of the embedded NLI gives the padded model's answers.

The packed run must be an implementation detail: the same logits as the original padded
``bottom``/``top`` path one pair at a time, whatever pairs share the batch, for the cross-encoder
and for the fusion's sentence encoder, in fp32 and with int8 layers.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch

from cns.models.embedded.features import batch_features
from cns.models.embedded.network import MAX_LENGTH
from cns.models.embedded.packed import Packing
from cns.models.nli_embedded import EmbeddedNLI, length_batches

#: pairs of very different lengths, so one batch has lots of padding to leave out
PAIRS = [
    ("A man plays a guitar.", "A man plays music."),
    (
        "The committee, after three years of hearings and two independent audits of the accounts, "
        "concluded that the regional water authority had overstated its reserves.",
        "The water authority reported its reserves accurately.",
    ),
    ("Dogs run in the snow.", "Animals are outside."),
    ("Bees pollinate many crops that farmers depend on every season.", "Farms need bees."),
    ("It rained.", "The ground is dry."),
]


@pytest.fixture(scope="module")
def nli() -> Iterator[EmbeddedNLI]:
    yield EmbeddedNLI(batch_size=16, num_threads=2)


def _padded_one_by_one(nli: EmbeddedNLI, pairs: list[tuple[str, str]]) -> torch.Tensor:
    """Logits of the original padded path, each pair alone (no padding at all)."""
    rows = []
    for premise, hypothesis in pairs:
        enc = nli._tokenizer(
            [premise], [hypothesis], truncation=True, max_length=MAX_LENGTH, return_tensors="pt"
        )
        with torch.inference_mode():
            hidden = nli._net.bottom(enc["input_ids"], enc["attention_mask"], enc["token_type_ids"])
            feats = torch.from_numpy(batch_features([(premise, hypothesis)]))
            rows.append(nli._net.top(hidden, enc["attention_mask"], feats))
    return torch.cat(rows)


def test_packing_round_trips_real_tokens_and_zeroes_pads() -> None:
    mask = torch.tensor([[1, 1, 1, 0], [1, 1, 0, 0]])
    packing = Packing.of(mask)
    grid = torch.arange(2 * 4 * 3, dtype=torch.float32).view(2, 4, 3)
    packed = packing.pack(grid)
    assert packed.shape == (5, 3)
    back = packing.unpack(packed)
    torch.testing.assert_close(back * mask[..., None], grid * mask[..., None])
    assert float(back[0, 3].abs().sum()) == 0.0 and float(back[1, 2:].abs().sum()) == 0.0


def test_packed_batch_gives_the_padded_models_logits(nli: EmbeddedNLI) -> None:
    packed, _ = nli.raw(PAIRS)
    expected = _padded_one_by_one(nli, PAIRS)
    # measured max |Δ| 7e-7 on 223 ingestion pairs: float rounding, not another computation
    torch.testing.assert_close(packed, expected, atol=1e-5, rtol=0)


def test_company_does_not_change_a_judgement(nli: EmbeddedNLI) -> None:
    together = nli.predict(PAIRS)
    alone = np.concatenate([nli.predict([pair]) for pair in PAIRS])
    shuffled = nli.predict([PAIRS[i] for i in (4, 2, 0, 3, 1)])[[2, 4, 1, 3, 0]]
    np.testing.assert_allclose(together, alone, atol=1e-5)
    np.testing.assert_allclose(together, shuffled, atol=1e-5)
    np.testing.assert_array_equal(together.argmax(1), alone.argmax(1))


def test_packed_sentence_embeddings_match_the_padded_encoder() -> None:
    from cns.models.nli_embedded import DEFAULT_WEIGHTS_DIR

    nli = EmbeddedNLI(DEFAULT_WEIGHTS_DIR / "v2", batch_size=16)  # a version with the fusion encoder
    texts = sorted({t for pair in PAIRS for t in pair}, key=len)
    enc = nli._tokenizer(texts, truncation=True, max_length=MAX_LENGTH, padding=True, return_tensors="pt")
    padded = nli._net.sentence_embeddings(enc["input_ids"], enc["attention_mask"])
    packed = nli._net.infer_sentence_embeddings(enc["input_ids"], enc["attention_mask"])
    torch.testing.assert_close(packed, padded, atol=1e-5, rtol=0)


def test_one_batch_per_document_when_padding_is_unbounded() -> None:
    lengths = [30, 81, 44, 29, 56, 63, 35]
    assert length_batches(lengths, 32, max_padding=None) == [[3, 0, 6, 2, 4, 5, 1]]
    assert length_batches(lengths, 4, max_padding=None) == [[3, 0, 6, 2], [4, 5, 1]]


def test_attention_groups_bound_padding_and_keep_token_order() -> None:
    from cns.models.embedded.packed import ATTENTION_PADDING, _runs

    lengths = [29, 30, 31, 44, 45, 63, 81]
    runs = _runs(lengths)
    assert [n for run in runs for n in run] == lengths
    assert all(max(run) * len(run) <= (1.0 + ATTENTION_PADDING) * sum(run) for run in runs)
    mask = torch.zeros((len(lengths), max(lengths)), dtype=torch.int64)
    for row, n in enumerate(lengths):
        mask[row, :n] = 1
    packing = Packing.of(mask)
    assert [(b - a) for a, b, _ in packing.groups] == [sum(run) for run in runs]
    assert packing.groups[-1][1] == sum(lengths)


def test_grouped_attention_gives_the_one_grid_answer(
    nli: EmbeddedNLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cns.models.embedded.packed as packed

    grouped, _ = nli.raw(PAIRS)
    monkeypatch.setattr(packed, "ATTENTION_PADDING", 1e9)  # one group: the whole padded grid
    one_grid, _ = nli.raw(PAIRS)
    torch.testing.assert_close(grouped, one_grid, atol=1e-5, rtol=0)
