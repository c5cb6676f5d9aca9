"""SQLStore on a SQLite file: the shared contracts plus SQLite-specific guarantees."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from cns.config import CNSConfig
from cns.errors import ConfigError, StoreError
from cns.store.memory import InMemorySNOStore
from cns.store.sql import SQLStore, database_url, normalize_url
from cns.testing.contracts import SNOStoreContract
from tests.store.repository_contract import RepositoryContract
from tests.store.sql_contract import SQLStoreContract


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SQLStore]:
    store = SQLStore.open(tmp_path / "store" / "cns.sqlite3")
    yield store
    store.close()


class TestInMemorySNOStoreContract(SNOStoreContract):
    @pytest.fixture
    def store(self) -> InMemorySNOStore:
        return InMemorySNOStore()


class TestSQLiteSNOStoreContract(SNOStoreContract):
    @pytest.fixture
    def store(self, sqlite_store: SQLStore) -> SQLStore:
        return sqlite_store


class TestSQLiteRepositoryContract(RepositoryContract):
    @pytest.fixture
    def store(self, sqlite_store: SQLStore) -> SQLStore:
        return sqlite_store


class TestSQLiteStoreContract(SQLStoreContract):
    @pytest.fixture
    def store(self, sqlite_store: SQLStore) -> SQLStore:
        return sqlite_store


def test_default_url_is_a_file_in_the_data_dir(tmp_path: Path) -> None:
    config = CNSConfig(data_dir=tmp_path / "data")
    assert database_url(config).database == str(tmp_path / "data" / "cns.sqlite3")
    with SQLStore.open(config=config) as store:
        assert store.backend == "sqlite"
        assert (tmp_path / "data" / "cns.sqlite3").is_file()


def test_database_url_from_config_is_normalised() -> None:
    config = CNSConfig(database_url="postgres://u:secret@db.example:5432/cns")
    url = database_url(config)
    assert url.drivername == "postgresql+psycopg"
    assert url.host == "db.example" and url.password == "secret"
    assert normalize_url("postgresql://h/db").drivername == "postgresql+psycopg"
    assert normalize_url("sqlite:///x.db").drivername == "sqlite+pysqlite"


@pytest.mark.parametrize(
    ("url", "problem"),
    [("sqlite://", "in-memory"), ("mysql://h/db", "unsupported"), ("not a url", "not a database URL")],
)
def test_unusable_urls_name_the_config_key(url: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem) as info:
        normalize_url(url)
    assert info.value.details["key"] == "database_url"


def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_store: SQLStore) -> None:
    with sqlite_store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL


def test_data_survives_reopen(tmp_path: Path) -> None:
    from cns.testing.contracts import sample_sno

    path = tmp_path / "cns.sqlite3"
    with SQLStore.open(path) as store:
        sno = sample_sno("persisted", trust=0.6)
        store.put(sno)
        doc = store.put_document("a document")
    with SQLStore.open(path) as again:
        assert again.get(sno.sno_id).trust_score == pytest.approx(0.6)
        assert again.document_exists(doc.document_id)
        assert again.current_seq() == 1


def test_unopenable_database_raises_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="cannot open the store"):
        SQLStore.open(blocker / "cns.sqlite3")


def test_corrupt_database_file_raises_store_error(tmp_path: Path) -> None:
    path = tmp_path / "cns.sqlite3"
    path.write_bytes(b"this is definitely not a sqlite database" * 100)
    with pytest.raises(StoreError, match="cannot open the store"):
        SQLStore.open(path)


def test_document_ids_agree_with_ingestion() -> None:
    """The store and the ingestion pipeline must derive the same id for the same text."""
    from cns.ingestion.document import document_id_for as ingestion_id
    from cns.store.sql import document_id_for

    text = "  Continental drift,\n\nrevisited.  "
    assert document_id_for(text) == ingestion_id(text)
