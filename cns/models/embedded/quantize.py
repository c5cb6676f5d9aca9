"""int8 quantization of the cross-encoder, done at load time from the shipped fp32 weights.

Why: the transformer's ``nn.Linear`` layers are most of the cost of the embedded NLI, and torch's
dynamic quantization runs them as int8 matrix products; on CPUs with int8 dot-product units this
is where a speed-up can come from without bf16 hardware. No separate weight file is shipped: the
int8 weights (one scale per output channel) are derived from the fp32 ones when the model loads.

Why not ``quantize_dynamic`` as it is: it scales the activations of a whole batch with one number,
so a pair's answer depended on the other pairs batched with it (measured: mean |Δp| 0.03 between
judging 80 pairs together and each alone, 2.5 % of labels flipped) — the same pair could get two
judgements in one run. :class:`RowScaledInt8Linear` gives every token row its own scale and pins
the batch's quantization grid, so each pair is judged the same in any company (and closer to fp32).

Only the cross-encoder's transformer layers are quantized. The linear head stays fp32 (it is
tiny, and its input mixes pooled states with lexical features of another scale), and so does the
base sentence encoder of the cosine fusion: a caller that supplies the same encoder's fp32
sentence vectors (ingestion does) must get the same output as when the model computes them.
"""

from __future__ import annotations

import copy
import warnings

import torch
from torch import nn

from cns.models.embedded.network import SplitCrossEncoder


def _int8_linear(linear: nn.Linear) -> nn.Module:
    """An int8 dynamic-quantized copy of ``linear`` without its bias (weights per output channel)."""
    try:
        from torch.ao.nn.quantized.dynamic import Linear as DynamicInt8Linear
        from torch.ao.quantization import per_channel_dynamic_qconfig
    except ImportError as exc:  # pragma: no cover - depends on the installed torch
        raise RuntimeError(
            f"models.nli_precision int8 needs torch.ao.quantization, which this torch ({torch.__version__}) "
            "lacks; use fp32 or bf16"
        ) from exc
    plain = nn.Linear(linear.in_features, linear.out_features, bias=False)
    plain.weight.data.copy_(linear.weight.data)
    plain.qconfig = per_channel_dynamic_qconfig  # type: ignore[assignment]
    with warnings.catch_warnings():
        # torch marks eager-mode quantization as deprecated in favour of a separate package; the
        # API still works and is what we use, so its warnings would only alarm the reader of logs
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        quantized: nn.Module = DynamicInt8Linear.from_float(plain)  # type: ignore[no-untyped-call]
    return quantized


class RowScaledInt8Linear(nn.Module):
    """``y = s · int8_linear(x / s) + b`` with ``s`` the max |x| of each row (token).

    The int8 kernel quantizes its whole input with one range; two constant rows (+1 and −1)
    appended to the scaled input make that range [−1, 1] for every batch, so a row's result
    depends only on the row itself.
    """

    def __init__(self, linear: nn.Linear) -> None:
        super().__init__()
        self.quantized = _int8_linear(linear)
        self.bias: torch.Tensor
        self.pins: torch.Tensor
        bias = linear.bias.detach().clone() if linear.bias is not None else torch.zeros(linear.out_features)
        self.register_buffer("bias", bias)
        ones = torch.ones(linear.in_features)
        self.register_buffer("pins", torch.stack([ones, -ones]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.reshape(-1, x.shape[-1])
        scale = rows.abs().amax(dim=1, keepdim=True).clamp_min(1e-12)
        out: torch.Tensor = self.quantized(torch.cat([rows / scale, self.pins]))[:-2]
        return (out * scale + self.bias).reshape(*x.shape[:-1], -1)


def _replace_linears(module: nn.Module) -> None:
    for name, child in list(module.named_children()):
        if type(child) is nn.Linear:
            setattr(module, name, RowScaledInt8Linear(child))
        else:
            _replace_linears(child)


def quantize_cross_encoder(net: SplitCrossEncoder) -> SplitCrossEncoder:
    """Quantize ``net``'s transformer layers in place; the head and the sentence encoder stay fp32.

    When the sentence encoder shares frozen bottom layers with the cross-encoder (a model that
    fine-tuned fewer than all layers), it first gets its own fp32 copy of them.
    """
    if getattr(net, "base_top", None) is not None and net.n_bottom > 0:
        net.sentence_bottom = nn.ModuleList(
            copy.deepcopy(layer) for layer in net.bert.encoder.layer[: net.n_bottom]
        )
    _replace_linears(net.bert.encoder)
    return net
