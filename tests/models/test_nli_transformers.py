"""The real Hugging Face loading path, exercised on a tiny randomly initialised model built here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

from cns.config import CNSConfig
from cns.errors import ModelUnavailableError
from cns.models import load_nli
from cns.models.nli_transformers import TransformersNLI, label_order, load_locally_available

WORDS = [
    "a",
    "man",
    "is",
    "sleeping",
    "awake",
    "the",
    "dog",
    "runs",
    "cat",
    "sits",
    "continents",
    "drift",
    "are",
    "fixed",
]


def build_tiny_model(folder: Path, id2label: dict[int, str], favoured: int) -> Path:
    """Save a 2-layer BERT classifier whose bias makes logit ``favoured`` dominate."""
    folder.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS, "."]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    BertTokenizerFast(vocab_file=str(folder / "vocab.txt")).save_pretrained(folder)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=64,
        num_labels=3,
        id2label=id2label,
        label2id={v: k for k, v in id2label.items()},
    )
    torch.manual_seed(0)
    model = BertForSequenceClassification(config)
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.tensor([10.0 if i == favoured else 0.0 for i in range(3)]))
    model.save_pretrained(folder)
    return folder


@pytest.mark.parametrize(
    ("id2label", "favoured", "expected_column"),
    [
        ({0: "CONTRADICTION", 1: "NEUTRAL", 2: "ENTAILMENT"}, 2, 0),  # roberta-large-mnli style, upper case
        ({0: "entailment", 1: "neutral", 2: "contradiction"}, 2, 2),  # lower case, other order
        ({0: "contradiction", 1: "entailment", 2: "neutral"}, 1, 0),  # cross-encoder/nli-* order
    ],
)
def test_label_order_is_read_case_insensitively(
    tmp_path: Path, id2label: dict[int, str], favoured: int, expected_column: int
) -> None:
    folder = build_tiny_model(tmp_path / "tiny", id2label, favoured)
    nli = TransformersNLI(str(folder), batch_size=2)
    probs = nli.predict(
        [("a man is sleeping .", "a man is awake ."), ("the dog runs", "the cat sits"), ("x", "y")]
    )
    assert probs.shape == (3, 3) and probs.dtype == np.float32
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert np.all(probs[:, expected_column] > 0.99)
    assert nli.predict([]).shape == (0, 3)


def test_auto_picks_transformers_when_weights_are_local(tmp_path: Path) -> None:
    folder = build_tiny_model(tmp_path / "tiny", {0: "CONTRADICTION", 1: "NEUTRAL", 2: "ENTAILMENT"}, 0)
    assert load_locally_available(str(folder))
    nli = load_nli("auto", CNSConfig(models={"nli": str(folder)}))
    assert nli.name == str(folder) and isinstance(getattr(nli, "inner", nli), TransformersNLI)
    assert nli.predict([("a", "b")])[0, 2] > 0.99


def test_missing_model_is_a_clear_error_without_download(tmp_path: Path) -> None:
    assert not load_locally_available("no-such-org/no-such-model")
    with pytest.raises(ModelUnavailableError, match="never downloads"):
        TransformersNLI(str(tmp_path / "missing")).warm_up()


def test_non_nli_labels_are_refused() -> None:
    with pytest.raises(ModelUnavailableError, match="MNLI-style"):
        label_order({0: "POSITIVE", 1: "NEGATIVE"})
