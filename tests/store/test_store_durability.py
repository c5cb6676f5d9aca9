"""Crash safety and migrations of the SQLite store.

A process killed with SIGKILL in the middle of writing must lose nothing it already reported
as stored and must leave no partial batch behind; the migrations must describe exactly the ORM
models and must be safe to apply from several openers at once.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from cns.store.sql import SQLStore
from cns.store.sql.migrate import VERSION_TABLE, alembic_config, current_revision, head_revision, upgrade
from cns.store.sql.schema import Base
from tests.store.crash_writer import check_survivors, kill_writer_mid_batch


def test_sigkill_mid_batch_loses_nothing_reported(tmp_path: Path) -> None:
    path = tmp_path / "cns.sqlite3"
    committed = kill_writer_mid_batch(str(path))
    assert committed >= 6
    with SQLStore.open(path) as store:
        check_survivors(store, committed)


def test_migrations_match_the_orm_models(tmp_path: Path) -> None:
    with SQLStore.open(tmp_path / "m.sqlite3") as store, store.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"version_table": VERSION_TABLE, "compare_type": True}
        )
        assert compare_metadata(context, Base.metadata) == []


def test_downgrade_and_upgrade_round_trip(tmp_path: Path) -> None:
    with SQLStore.open(tmp_path / "r.sqlite3") as store:
        with store.engine.begin() as conn:
            command.downgrade(alembic_config(conn), "base")
        with store.engine.connect() as conn:
            assert current_revision(conn) is None
            tables = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))}
            assert "snos" not in tables
        assert upgrade(store.engine) == head_revision()
        assert len(store) == 0 and store.current_seq() == 0


def test_documents_stored_before_the_text_column_keep_a_null_text(tmp_path: Path) -> None:
    """Upgrading a store whose documents were written without texts: they read as None (the
    pages then show the spans alone) and a new ingestion of the same text fills it in."""
    from cns.core.sno import StructuredNarrativeObject

    with SQLStore.open(tmp_path / "old.sqlite3") as store:
        with store.engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0006_job_leases")
            conn.execute(
                text(
                    "INSERT INTO documents (document_id, source, metadata, char_count, created_at) "
                    "VALUES ('d0', 'old.txt', '{}', 9, '2026-01-01 00:00:00')"
                )
            )
            command.upgrade(alembic_config(conn), "head")
        assert store.documents.document_text("d0") is None
        assert store.documents.get_document("d0") is not None  # the row itself is untouched
        body = "We argue that old rows stay readable."
        sno = StructuredNarrativeObject(body)
        store.put_with_document(sno, body, source="new.txt")
        [new] = [d for d in store.list_documents() if d.document_id != "d0"]
        assert store.documents.document_text(new.document_id) == body


def test_concurrent_opens_of_a_fresh_file(tmp_path: Path) -> None:
    path = tmp_path / "fresh.sqlite3"
    with ThreadPoolExecutor(max_workers=6) as pool:
        stores = list(pool.map(lambda _: SQLStore.open(path), range(6)))
    try:
        with stores[0].engine.connect() as conn:
            assert current_revision(conn) == head_revision()
            assert conn.execute(text("SELECT count(*) FROM store_counters")).scalar() == 1
    finally:
        for store in stores:
            store.close()
