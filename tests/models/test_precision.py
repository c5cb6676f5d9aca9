"""The embedded NLI's precision is read from the CPU, never assumed."""

from __future__ import annotations

from pathlib import Path

import pytest

from cns.models import precision


def _cpuinfo(tmp_path: Path, flags: str) -> Path:
    path = tmp_path / "cpuinfo"
    path.write_text(f"processor\t: 0\nmodel name\t: test\nflags\t\t: {flags}\n\nprocessor\t: 1\n")
    return path


def test_flags_are_read_from_the_first_cpu(tmp_path: Path) -> None:
    flags = precision.cpu_flags(_cpuinfo(tmp_path, "fpu sse avx512f avx512_bf16"))
    assert {"avx512_bf16", "avx512f", "sse"} <= flags
    assert precision.cpu_flags(tmp_path / "missing") == frozenset()


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ("fpu avx2 avx512f", "fp32"),
        ("fpu avx512_bf16", "bf16"),
        ("fpu amx_bf16 amx_tile", "bf16"),
        ("", "fp32"),
    ],
)
def test_auto_picks_bf16_only_on_native_bf16_cpus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flags: str, expected: str
) -> None:
    path = _cpuinfo(tmp_path, flags)
    monkeypatch.setattr(
        precision, "has_native_bf16", lambda: bool(precision.cpu_flags(path) & precision.NATIVE_BF16_FLAGS)
    )
    assert precision.resolve_precision("auto") == expected


def test_explicit_settings_pass_through_and_nonsense_is_refused() -> None:
    assert precision.resolve_precision("fp32") == "fp32"
    assert precision.resolve_precision("bf16") == "bf16"
    with pytest.raises(ValueError, match="unknown NLI precision 'int4'"):
        precision.resolve_precision("int4")
