from __future__ import annotations

from pathlib import Path

import pytest

from tests.web.web_helpers import build_store, copy_store


@pytest.fixture(scope="session")
def built_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corpus ingested, paired and synthesized once per test session (fake models)."""
    return build_store(tmp_path_factory.mktemp("web-corpus"))


@pytest.fixture
def data_dir(built_store: Path, tmp_path: Path) -> Path:
    """A private copy of the built store: a test may write to it."""
    return copy_store(built_store, tmp_path / "data")
