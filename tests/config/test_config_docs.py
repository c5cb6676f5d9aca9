from __future__ import annotations

from pathlib import Path

from cns.config import CNSConfig, config_sources

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_every_key_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [key for key in config_sources(CNSConfig()) if f"`{key}`" not in text]
    assert not missing, f"regenerate with scripts/gen_config_reference.py; missing: {missing}"
