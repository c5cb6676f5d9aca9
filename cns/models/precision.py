"""Which numeric precision the cross-encoder runs in: detected from the CPU, never assumed.

Why: bfloat16 autocast runs the embedded NLI 1.7-2.6x faster on CPUs with native bf16 matrix
instructions (AVX512-BF16, AMX) with the same TEST metrics to the third decimal (docs/models.md),
but it is *slower* than fp32 where the CPU emulates bf16.  ``auto`` therefore reads the CPU's
feature flags and picks bf16 only where the hardware has it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

Precision = Literal["fp32", "bf16"]
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
def has_native_bf16() -> bool:
    """True when the CPU executes bf16 matrix products natively."""
    return bool(cpu_flags() & NATIVE_BF16_FLAGS)


def resolve_precision(setting: str) -> Precision:
    """``auto`` -> bf16 on native-bf16 CPUs, else fp32; explicit values pass through."""
    if setting == "auto":
        return "bf16" if has_native_bf16() else "fp32"
    if setting in ("fp32", "bf16"):
        return setting  # type: ignore[return-value]
    raise ValueError(f"unknown NLI precision {setting!r}; expected auto, fp32 or bf16")
