"""Alembic environment: runs on the connection handed over by :mod:`cns.store.sql.migrate`.

The caller has already opened a transaction and taken the migration lock on that connection,
so this file never creates an engine and never reads an ini file or configures logging.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from cns.store.sql.schema import Base

VERSION_TABLE = "cns_alembic_version"


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError("cns migrations must be run through cns.store.sql.migrate.upgrade()")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported for the cns store")
run_migrations_online()
