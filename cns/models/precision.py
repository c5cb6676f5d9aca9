"""Which numeric precision the cross-encoder runs in: detected from the CPU, never assumed.

Why: the arithmetic that is fastest depends on the CPU. bfloat16 autocast runs the embedded NLI
1.7-2.6x faster on CPUs with native bf16 matrix instructions (AVX512-BF16, AMX) with the same TEST
metrics to the third decimal, but *slower* than fp32 where the CPU emulates bf16. ``auto``
therefore reads the CPU's feature flags: bf16 where the hardware has it, else fp32.

``int8`` (quantized linear layers, :mod:`cns.models.embedded.quantize`) is offered but not picked
by ``auto``: on an AVX2 server without int8 dot-product units it was no faster than fp32, and with
them (AVX512-VNNI) it was 1.4-1.5x fp32 but cost the shipped model 0.015-0.02 SNLI accuracy
(docs/models.md, "Precision"): quality first, throughput by opt-in.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

Precision = Literal["fp32", "bf16", "int8"]
PRECISIONS: tuple[Precision, ...] = ("fp32", "bf16", "int8")
NATIVE_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """Feature flags of the first CPU listed in ``cpuinfo`` (empty where the file is unreadable)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


@lru_cache(maxsize=1)
def local_cpu_flags() -> frozenset[str]:
    """This machine's CPU flags (read once)."""
    return cpu_flags()


def auto_precision(flags: frozenset[str]) -> Precision:
    """The precision ``auto`` picks for a CPU with these feature flags."""
    return "bf16" if flags & NATIVE_BF16_FLAGS else "fp32"


def resolve_precision(setting: str) -> Precision:
    """``auto`` -> :func:`auto_precision` of this CPU; explicit values pass through."""
    if setting == "auto":
        return auto_precision(local_cpu_flags())
    if setting in PRECISIONS:
        return setting
    raise ValueError(f"unknown NLI precision {setting!r}; expected auto, fp32, bf16 or int8")


def version_suffix(precision: Precision) -> str:
    """Suffix of the model version for judgements made in ``precision`` ('' for fp32).

    Why: bf16 and int8 judgements differ from fp32 ones in the second or third decimal, so each
    precision caches under its own version and cached results of two precisions never mix.
    """
    return "" if precision == "fp32" else f"-{precision}"
