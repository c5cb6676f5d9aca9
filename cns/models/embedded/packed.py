"""Padding-free inference for the MiniLM layers: the token-wise work runs on real tokens only.

Why: four fifths of a BERT layer's arithmetic are its linear layers (query/key/value, output,
feed-forward), and they treat every token on its own. Run on a padded ``(batch, width)`` grid they
pay for every pad token, so the NLI runner had to cut a document's ~25 pairs of 30–80 tokens into
four or five small batches of similar length to keep padding low — and many small matrix products
use two cores much worse than one large one (on 2 shared cores, one batch per document measured
markedly faster than five). Here the real tokens of a whole batch are packed into one
``(tokens, hidden)`` matrix for the linear layers and layer norms; only attention, the one step that
mixes tokens of a pair, sees the padded grid (its cost is small at these lengths). Each token
gets exactly the arithmetic of the padded model, so a pair's judgement does not depend on the pairs
packed with it (tests/models/test_nli_packed.py compares both ways).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import torch
from torch.nn import functional as F

from cns.models.embedded.masks import additive_mask

#: attention is computed in groups of consecutive rows whose padding stays within this share
ATTENTION_PADDING = 0.1


@dataclass(frozen=True)
class Packing:
    """Where the real tokens of a padded ``(batch, width)`` grid sit, and the attention mask.

    ``groups`` cut the rows into runs of similar length (``(first token, end token, packing of
    the run)``): attention, the only step that needs a grid, pays for little padding in each.
    """

    index: torch.Tensor  # (tokens,) flat positions of real tokens in the batch * width grid
    batch: int
    width: int
    mask: torch.Tensor  # (batch, width) additive attention mask, 0 at real tokens
    groups: tuple[tuple[int, int, Packing], ...] = ()

    @classmethod
    def of(cls, attention_mask: torch.Tensor, *, grouped: bool = True) -> Packing:
        """The packing of a 0/1 ``(batch, width)`` attention mask (real tokens first in each row)."""
        batch, width = attention_mask.shape
        index = torch.nonzero(attention_mask.reshape(-1), as_tuple=True)[0]
        additive = additive_mask(attention_mask, torch.float32)[:, 0, 0, :]
        groups: list[tuple[int, int, Packing]] = []
        if grouped:
            lengths = [int(n) for n in attention_mask.sum(1)]
            token = row = 0
            for run in _runs(lengths):
                sub = attention_mask[row : row + len(run), : max(run)]
                groups.append((token, token + sum(run), cls.of(sub, grouped=False)))
                token, row = token + sum(run), row + len(run)
        return cls(index, int(batch), int(width), additive, tuple(groups))

    def pack(self, padded: torch.Tensor) -> torch.Tensor:
        """``(batch, width, hidden)`` -> ``(tokens, hidden)``, real tokens only."""
        return padded.reshape(self.batch * self.width, -1).index_select(0, self.index)

    def unpack(self, packed: torch.Tensor) -> torch.Tensor:
        """``(tokens, hidden)`` -> ``(batch, width, hidden)`` with zeros at the pads."""
        grid = packed.new_zeros((self.batch * self.width, packed.shape[-1]))
        return grid.index_copy_(0, self.index, packed).view(self.batch, self.width, -1)


def _runs(lengths: list[int]) -> list[list[int]]:
    """Consecutive rows grouped while the group's padding stays within ``ATTENTION_PADDING``."""
    runs: list[list[int]] = []
    for n in lengths:
        if runs:
            run = runs[-1]
            width = max(*run, n)
            if width * (len(run) + 1) <= (1.0 + ATTENTION_PADDING) * (sum(run) + n):
                run.append(n)
                continue
        runs.append([n])
    return runs


def _attention_grid(
    query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, packing: Packing, heads: int, scaling: float
) -> torch.Tensor:
    """Attention of packed ``query``/``key``/``value`` rows on ``packing``'s padded grid."""

    def split(states: torch.Tensor) -> torch.Tensor:
        grid = packing.unpack(states)
        return grid.view(packing.batch, packing.width, heads, -1).transpose(1, 2)

    q, k, v = split(query), split(key), split(value)
    # the arithmetic of the padded model's eager attention, step for step: a fused kernel would
    # sum in an order that depends on the batch's width, and int8 rounding can magnify that
    # last-bit noise into answers that depend on the company a pair is judged in
    scores = torch.matmul(q, k.transpose(2, 3)) * scaling
    scores = scores + packing.mask[:, None, None, :].to(scores.dtype)
    context = torch.matmul(F.softmax(scores, dim=-1), v)
    return packing.pack(context.transpose(1, 2).reshape(packing.batch, packing.width, -1))


def _attention(attention: Any, hidden: torch.Tensor, packing: Packing) -> torch.Tensor:
    """Multi-head self-attention of a ``BertSelfAttention`` on packed tokens, group by group."""
    heads, scaling = int(attention.num_attention_heads), float(attention.scaling)
    query, key, value = attention.query(hidden), attention.key(hidden), attention.value(hidden)
    if not packing.groups:
        return _attention_grid(query, key, value, packing, heads, scaling)
    return torch.cat(
        [
            _attention_grid(query[a:b], key[a:b], value[a:b], sub, heads, scaling)
            for a, b, sub in packing.groups
        ]
    )


def packed_layer(layer: Any, hidden: torch.Tensor, packing: Packing) -> torch.Tensor:
    """One eval-mode ``BertLayer`` on packed ``(tokens, hidden)`` states (dropout is off in eval)."""
    context = _attention(layer.attention.self, hidden, packing)
    attended: torch.Tensor = layer.attention.output(context, hidden)
    out: torch.Tensor = layer.output(layer.intermediate(attended), attended)
    return out


def packed_layers(layers: Iterable[Any], hidden: torch.Tensor, packing: Packing) -> torch.Tensor:
    """``layers`` in turn on packed states."""
    for layer in layers:
        hidden = packed_layer(layer, hidden, packing)
    return hidden


def mean_pool(hidden: torch.Tensor, packing: Packing) -> torch.Tensor:
    """Mean of each row's real tokens (``(batch, hidden)``) from packed states."""
    grid = packing.unpack(hidden)
    counts = (packing.mask == 0).to(grid.dtype).sum(1, keepdim=True).clamp(min=1.0)
    return grid.sum(1) / counts
