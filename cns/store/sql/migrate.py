"""Apply the shipped Alembic migrations programmatically, safely under concurrent opens.

Two processes may open a fresh database at the same time (a CLI run and a worker). Each takes an
exclusive lock before ``alembic upgrade head``, so the second one finds the schema already at
head and does nothing: a PostgreSQL transaction-level advisory lock (released by the commit), or
for SQLite the write lock of a ``BEGIN IMMEDIATE`` transaction that wraps the whole upgrade.
"""

from __future__ import annotations

import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from cns.errors import StoreError
from cns.logging_setup import get_logger
from cns.store.sql.engine import writer

log = get_logger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
VERSION_TABLE = "cns_alembic_version"
#: Arbitrary constant identifying "cns schema migration" among advisory locks of the database.
PG_MIGRATION_LOCK_ID = 0x434E_5332_4D49_47


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at the shipped migrations (no ini file involved)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise StoreError(f"no migrations found in {MIGRATIONS_DIR}; the cns package is incomplete")
    return head


def current_revision(connection: Connection) -> str | None:
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def upgrade(engine: Engine) -> str:
    """Bring the database of ``engine`` to the head revision; return that revision."""
    head = head_revision()
    with writer(engine).begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_MIGRATION_LOCK_ID})
        current = current_revision(connection)
        if current == head:
            return head
        log.info("store.migrate", from_revision=current, to_revision=head, backend=connection.dialect.name)
        command.upgrade(alembic_config(connection), "head")
    return head


def _main(argv: list[str]) -> int:
    """Developer entry point: ``python -m cns.store.sql.migrate revision "message"``."""
    if len(argv) != 2 or argv[0] != "revision":
        sys.stderr.write('usage: python -m cns.store.sql.migrate revision "message"\n')
        return 2
    command.revision(alembic_config(), message=argv[1])
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
