"""Opening a store whose schema is at head answers without Alembic, and nothing else does.

The head is read from the shipped migration files; these tests hold it equal to Alembic's answer,
refuse a history that is not one straight line, and show that an open of a migrated database in a
fresh process never imports Alembic while a database below head still goes through it.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from cns.store.sql import SQLStore, migrate

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh_head_cache() -> Iterator[None]:
    migrate.shipped_head.cache_clear()
    yield
    migrate.shipped_head.cache_clear()


def test_the_head_read_from_the_files_is_alembics_head() -> None:
    assert migrate.shipped_head() == migrate.head_revision()


def _write_versions(root: Path, files: dict[str, str]) -> None:
    versions = root / "versions"
    versions.mkdir(parents=True)
    for name, body in files.items():
        (versions / name).write_text(body, encoding="utf-8")


@pytest.mark.parametrize(
    "files",
    [
        pytest.param(  # two heads
            {
                "a.py": 'revision = "a"\ndown_revision = None\n',
                "b.py": 'revision = "b"\ndown_revision = "a"\n',
                "c.py": 'revision = "c"\ndown_revision = "a"\n',
            },
            id="branch",
        ),
        pytest.param(
            {"a.py": 'revision = "a"\ndown_revision = ("x", "y")\n'},
            id="merge",
        ),
        pytest.param(
            {"a.py": 'revision = "a"\ndown_revision = None\nbranch_labels = ("l",)\n'},
            id="branch-label",
        ),
        pytest.param({"a.py": "revision = make_id()\ndown_revision = None\n"}, id="computed"),
    ],
)
def test_a_history_that_is_not_one_line_is_left_to_alembic(
    tmp_path: Path, files: dict[str, str], monkeypatch: pytest.MonkeyPatch, fresh_head_cache: None
) -> None:
    _write_versions(tmp_path, files)
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", tmp_path)
    assert migrate.shipped_head() is None


def test_a_straight_history_gives_its_last_revision(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_head_cache: None
) -> None:
    _write_versions(
        tmp_path,
        {
            "1.py": 'revision: str = "one"\ndown_revision: str | None = None\n',
            "2.py": 'revision: str = "two"\ndown_revision: str | None = "one"\ndepends_on = None\n',
        },
    )
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", tmp_path)
    assert migrate.shipped_head() == "two"


def test_an_empty_database_has_no_stamp_and_a_migrated_one_has_the_head(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    assert migrate.stamped_revision(engine) is None
    engine.dispose()
    store = SQLStore.open(tmp_path / "cns.sqlite3")
    try:
        assert migrate.stamped_revision(store.engine) == migrate.head_revision()
    finally:
        store.close()


def test_a_database_below_head_goes_through_alembic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(migrate, "stamped_revision", lambda engine: "0001_initial")
    monkeypatch.setattr(migrate, "_upgrade_locked", lambda engine: calls.append("alembic") or "head")
    engine = create_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    assert migrate.upgrade(engine) == "head"
    assert calls == ["alembic"]
    engine.dispose()


def test_reopening_a_migrated_store_does_not_import_alembic(tmp_path: Path) -> None:
    path = tmp_path / "cns.sqlite3"
    SQLStore.open(path).close()
    code = (
        "import sys\nfrom cns.store.sql import SQLStore\n"
        f"SQLStore.open({str(path)!r}).close()\n"
        "assert 'alembic' not in sys.modules, 'alembic imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
