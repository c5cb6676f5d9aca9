"""Apply the shipped Alembic migrations programmatically, safely under concurrent opens.

Two processes may open a fresh database at the same time (a CLI run and a worker). Each takes an
exclusive lock before ``alembic upgrade head``, so the second one finds the schema already at
head and does nothing: a PostgreSQL transaction-level advisory lock (released by the commit), or
for SQLite the write lock of a ``BEGIN IMMEDIATE`` transaction that wraps the whole upgrade.

Almost every open finds the schema at head already. That case is answered without Alembic, whose
import costs a few tenths of a second of CPU in every API server, worker and CLI process: the
head is read from the ``revision`` lines of the shipped migration files and compared with the
version table. Anything else (a fresh or older database, a history that is not one straight
line) goes through Alembic under the lock, as before.
"""

from __future__ import annotations

import functools
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from cns.errors import StoreError
from cns.logging_setup import get_logger
from cns.store.sql.engine import writer

if TYPE_CHECKING:
    from alembic.config import Config

log = get_logger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
VERSION_TABLE = "cns_alembic_version"
#: Arbitrary constant identifying "cns schema migration" among advisory locks of the database.
PG_MIGRATION_LOCK_ID = 0x434E_5332_4D49_47


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at the shipped migrations (no ini file involved)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise StoreError(f"no migrations found in {MIGRATIONS_DIR}; the cns package is incomplete")
    return head


def current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


_REVISION_LINE = re.compile(
    r"^(revision|down_revision|branch_labels|depends_on)\b[^=\n]*=[ \t]*(.*?)[ \t]*$", re.MULTILINE
)
_QUOTED = re.compile(r'"([^"]+)"')


@functools.cache
def shipped_head() -> str | None:
    """The head revision of the shipped migrations, read from their files without Alembic.

    None unless every file names its ``revision`` and ``down_revision`` as plain strings, uses no
    branch labels or dependencies, and the history is one straight line; then only Alembic can
    tell.
    """
    parents: dict[str, str | None] = {}
    for path in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        if path.name == "__init__.py":
            continue
        found = dict(_REVISION_LINE.findall(path.read_text(encoding="utf-8")))
        if any(found.get(key, "None") != "None" for key in ("branch_labels", "depends_on")):
            return None
        revision = _QUOTED.fullmatch(found.get("revision", ""))
        down = _QUOTED.fullmatch(found.get("down_revision", ""))
        if revision is None or (down is None and found.get("down_revision") != "None"):
            return None
        parents[revision.group(1)] = down.group(1) if down else None
    children = [down for down in parents.values() if down is not None]
    heads = [revision for revision in parents if revision not in children]
    roots = [revision for revision, down in parents.items() if down is None]
    straight = len(set(children)) == len(children) and set(children) <= set(parents)
    return heads[0] if straight and len(heads) == 1 and len(roots) == 1 else None


def stamped_revision(engine: Engine) -> str | None:
    """The revision in the version table, read with plain SQL (None when there is no table)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    return rows[0] if len(rows) == 1 else None


def upgrade(engine: Engine) -> str:
    """Bring the database of ``engine`` to the head revision; return that revision."""
    head = shipped_head()
    if head is not None and stamped_revision(engine) == head:
        return head  # already at head: committed by whoever migrated, no lock or Alembic needed
    return _upgrade_locked(engine)


def _upgrade_locked(engine: Engine) -> str:
    """Alembic's ``upgrade head`` under the migration lock (see the module docstring)."""
    from alembic import command

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
    from alembic import command

    command.revision(alembic_config(), message=argv[1])
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
