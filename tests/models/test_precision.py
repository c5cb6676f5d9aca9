"""The embedded NLI's precision is read from the CPU, never assumed, and each caches apart."""

from __future__ import annotations

from pathlib import Path

import pytest

from cns.config import CNSConfig
from cns.models import precision
from cns.models.factory import embedded_weights_version, load_nli
from cns.models.nli_cache import CachedNLI


def _cpuinfo(tmp_path: Path, flags: str, key: str = "flags") -> Path:
    path = tmp_path / "cpuinfo"
    path.write_text(f"processor\t: 0\nmodel name\t: test\n{key}\t\t: {flags}\n\nprocessor\t: 1\n")
    return path


def test_flags_are_read_from_the_first_cpu(tmp_path: Path) -> None:
    flags = precision.cpu_flags(_cpuinfo(tmp_path, "fpu sse avx512f avx512_bf16"))
    assert {"avx512_bf16", "avx512f", "sse"} <= flags
    assert precision.cpu_flags(_cpuinfo(tmp_path, "fp asimd crc32", key="Features")) >= {"asimd"}
    assert precision.cpu_flags(tmp_path / "missing") == frozenset()


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ("fpu avx2 avx512f avx512_bf16", "bf16"),
        ("fpu amx_bf16 amx_tile avx2", "bf16"),
        # int8 is never picked by itself: faster with VNNI, but it costs SNLI accuracy (docs/models.md)
        ("fpu sse4_2 avx avx2 fma avx512_vnni", "fp32"),
        ("fp asimd evtstrm", "fp32"),
        ("", "fp32"),  # unreadable /proc/cpuinfo
    ],
)
def test_auto_picks_by_cpu_flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flags: str, expected: str
) -> None:
    path = _cpuinfo(tmp_path, flags)
    assert precision.auto_precision(precision.cpu_flags(path)) == expected
    monkeypatch.setattr(precision, "local_cpu_flags", lambda: precision.cpu_flags(path))
    assert precision.resolve_precision("auto") == expected


def test_explicit_settings_pass_through_and_nonsense_is_refused() -> None:
    for value in ("fp32", "bf16", "int8"):
        assert precision.resolve_precision(value) == value
    with pytest.raises(ValueError, match="unknown NLI precision 'int4'"):
        precision.resolve_precision("int4")


def test_each_precision_caches_under_its_own_version(tmp_path: Path) -> None:
    base = embedded_weights_version()
    versions = {}
    for value in ("fp32", "bf16", "int8"):
        config = CNSConfig(data_dir=tmp_path, models={"nli_backend": "embedded", "nli_precision": value})
        model = load_nli(config=config)
        assert isinstance(model, CachedNLI)  # built lazily: no weights were loaded for this
        versions[value] = model.version
    assert versions == {"fp32": base, "bf16": f"{base}-bf16", "int8": f"{base}-int8"}
    assert {precision.version_suffix(p) for p in precision.PRECISIONS} == {"", "-bf16", "-int8"}
