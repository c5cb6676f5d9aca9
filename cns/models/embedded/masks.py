"""The attention mask form that both the padded and the packed runs of the MiniLM layers use."""

from __future__ import annotations

import torch


def additive_mask(attention_mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """(B, S) 0/1 mask -> (B, 1, 1, S) additive mask understood by ``BertLayer``."""
    return (1.0 - attention_mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min
