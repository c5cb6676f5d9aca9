"""NLI with any MNLI-style Hugging Face sequence classifier (``models.nli_backend: transformers``).

Works with ``roberta-large-mnli`` (the default ``models.nli``), ``cross-encoder/nli-*`` models and any
local folder holding such a model. The label order is read from the model's ``id2label``
**case-insensitively** (roberta-large-mnli uses CONTRADICTION/NEUTRAL/ENTAILMENT; others use
lower case or a different order) and the output is re-ordered to CNS's fixed
(entailment, neutral, contradiction). Inputs are batched and truncated; no gradients are kept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cns.errors import ModelUnavailableError
from cns.ports import NLI_LABELS, FloatArray

_ALIASES = {
    "entailment": "entailment",
    "entail": "entailment",
    "neutral": "neutral",
    "contradiction": "contradiction",
    "contradict": "contradiction",
}


def label_order(id2label: dict[int, str]) -> list[int]:
    """Column of the model's logits holding each CNS label, in (entailment, neutral, contradiction) order."""
    found: dict[str, int] = {}
    for idx, label in id2label.items():
        key = _ALIASES.get(str(label).strip().lower())
        if key:
            found[key] = int(idx)
    missing = [label for label in NLI_LABELS if label not in found]
    if missing:
        raise ModelUnavailableError(
            f"model labels {sorted(id2label.values())} do not name {missing}; an MNLI-style 3-way model is required"
        )
    return [found[label] for label in NLI_LABELS]


def load_locally_available(name: str) -> bool:
    """True if ``name`` is a local folder or already in the Hugging Face cache (no network)."""
    if Path(name).is_dir():
        return (Path(name) / "config.json").is_file()
    try:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(name, "config.json")
    except Exception:
        return False
    return isinstance(cached, str)


class TransformersNLI:
    """``AutoModelForSequenceClassification`` wrapper producing CNS-ordered probabilities."""

    def __init__(
        self,
        model_name: str = "roberta-large-mnli",
        *,
        device: str = "cpu",
        batch_size: int = 16,
        max_length: int = 256,
        num_threads: int | None = None,
    ) -> None:
        self._name = model_name
        self._device = device
        self._batch_size = batch_size
        self._max_length = max_length
        self._num_threads = num_threads
        self._model: Any = None
        self._tokenizer: Any = None
        self._order: list[int] = []

    @property
    def name(self) -> str:
        return self._name

    @property
    def version(self) -> str:
        revision = getattr(getattr(self._model, "config", None), "_commit_hash", None) or ""
        return revision[:12] or hashlib.sha256(self._name.encode("utf-8")).hexdigest()[:12]

    def warm_up(self) -> None:
        if self._model is not None:
            return
        try:
            import torch
            from transformers import AutoModelForSequenceClassification, AutoTokenizer

            if self._num_threads:
                torch.set_num_threads(self._num_threads)
            self._tokenizer = AutoTokenizer.from_pretrained(self._name)
            model = AutoModelForSequenceClassification.from_pretrained(self._name)
        except Exception as exc:
            raise ModelUnavailableError(
                f"could not load NLI model {self._name!r}: {exc}. CNS never downloads models implicitly; "
                "pre-download it into the Hugging Face cache or set models.nli to a local folder, "
                "or use models.nli_backend: embedded.",
                model=self._name,
            ) from exc
        self._order = label_order({int(k): v for k, v in model.config.id2label.items()})
        self._model = model.to(self._device).eval()

    def predict(self, pairs: Sequence[tuple[str, str]]) -> FloatArray:
        self.warm_up()
        import torch

        if not pairs:
            return np.zeros((0, 3), dtype=np.float32)
        chunks = []
        with torch.inference_mode():
            for start in range(0, len(pairs), self._batch_size):
                batch = pairs[start : start + self._batch_size]
                encoded = self._tokenizer(
                    [p for p, _ in batch],
                    [h for _, h in batch],
                    padding=True,
                    truncation=True,
                    max_length=self._max_length,
                    return_tensors="pt",
                ).to(self._device)
                logits = self._model(**encoded).logits.float()
                chunks.append(torch.softmax(logits, dim=-1)[:, self._order].cpu().numpy())
        result: FloatArray = np.concatenate(chunks).astype(np.float32)
        return result
