"""SQLStore on this machine's PostgreSQL: the same contracts as SQLite, plus concurrent opens.

Each session creates its own throw-away database (dropped at the end); each test starts from
empty tables. PostgreSQL is started if it is down; if it cannot be reached the tests fail under
``CI=true`` and are skipped elsewhere.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from cns.store.sql import SQLStore
from cns.store.sql.migrate import PG_MIGRATION_LOCK_ID, current_revision, head_revision
from cns.testing.contracts import SNOStoreContract, sample_sno
from cns.testing.services import (
    DEFAULT_POSTGRES_URL,
    ServiceUnavailableError,
    ensure_postgres,
    in_ci,
    temporary_postgres_database,
)
from tests.store.crash_writer import check_survivors, kill_writer_mid_batch
from tests.store.repository_contract import RepositoryContract
from tests.store.sql_contract import SQLStoreContract

pytestmark = pytest.mark.integration
ADMIN_URL = os.environ.get("CNS_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
#: Children first; DELETE is much faster than TRUNCATE on tables this small.
TABLES = (
    "synthesis_attempts", "pairs", "sno_lineage", "sno_tombstones", "snos", "documents", "jobs", "api_keys",
)  # fmt: skip


def require_postgres() -> None:
    """Start PostgreSQL if needed; fail under CI, skip elsewhere, when it cannot be reached."""
    try:
        ensure_postgres(ADMIN_URL)
    except ServiceUnavailableError as exc:
        if in_ci():
            pytest.fail(f"PostgreSQL is required in CI: {exc}")
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    require_postgres()
    with temporary_postgres_database(ADMIN_URL) as url:
        yield url


@pytest.fixture(scope="module")
def pg_shared_store(pg_url: str) -> Iterator[SQLStore]:
    store = SQLStore.open(pg_url)
    yield store
    store.close()


@pytest.fixture
def pg_store(pg_shared_store: SQLStore) -> SQLStore:
    with pg_shared_store.engine.begin() as conn:
        for table in TABLES:
            conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(text("DELETE FROM store_counters WHERE name <> 'sno_seq'"))  # markers
        conn.execute(text("UPDATE store_counters SET value = 0"))
    return pg_shared_store


class TestPostgresSNOStoreContract(SNOStoreContract):
    @pytest.fixture
    def store(self, pg_store: SQLStore) -> SQLStore:
        return pg_store


class TestPostgresRepositoryContract(RepositoryContract):
    @pytest.fixture
    def store(self, pg_store: SQLStore) -> SQLStore:
        return pg_store


class TestPostgresStoreContract(SQLStoreContract):
    @pytest.fixture
    def store(self, pg_store: SQLStore) -> SQLStore:
        return pg_store


def test_password_never_shows_in_url_or_repr(pg_url: str) -> None:
    with_password = make_url(pg_url).set(drivername="postgresql", password="s3cret-pw")
    with SQLStore.open(with_password.render_as_string(hide_password=False)) as store:
        assert store.backend == "postgresql"
        assert store.url.startswith("postgresql+psycopg://postgres:***@")
        assert "s3cret-pw" not in store.url and "s3cret-pw" not in repr(store)


def test_concurrent_opens_of_a_fresh_database_migrate_once() -> None:
    """Eight stores opening an empty database at once: one migrates, all end at head."""
    require_postgres()
    with temporary_postgres_database(ADMIN_URL, prefix="cns_test_open") as url:
        with ThreadPoolExecutor(max_workers=8) as pool:
            stores = list(pool.map(lambda _: SQLStore.open(url), range(8)))
        try:
            with stores[0].engine.connect() as conn:
                assert current_revision(conn) == head_revision()
                counters = conn.execute(text("SELECT count(*) FROM store_counters")).scalar()
                assert counters == 1  # the seed row was inserted exactly once
            sno = sample_sno("written by one, read by all")
            stores[3].put(sno)
            assert all(s.get(sno.sno_id).sno_id == sno.sno_id for s in stores)
        finally:
            for store in stores:
                store.close()


def test_migration_lock_is_a_transaction_lock(pg_store: SQLStore) -> None:
    """The advisory lock is released with the migration's transaction, never leaked."""
    with pg_store.engine.connect() as conn:
        held = conn.execute(
            text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = :low"),
            {"low": PG_MIGRATION_LOCK_ID & 0xFFFFFFFF},
        ).scalar()
    assert held == 0


def test_sigkill_mid_batch_loses_nothing_reported(pg_store: SQLStore, pg_url: str) -> None:
    committed = kill_writer_mid_batch(pg_url)
    assert committed >= 6
    check_survivors(pg_store, committed)
