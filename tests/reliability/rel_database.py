"""Database faults for the reliability tests, on the stack's own temporary database only.

The PostgreSQL server is shared by every test (and by other checkouts on this machine), so a
fault never stops the server: it acts on the stack's database alone, from a separate admin
connection to the server's default database —

* :meth:`PostgresFaults.reset_connections`: ``pg_terminate_backend`` on every session of the
  stack's database (what a server restart, a failover or an idle-timeout kill does to a client);
* :meth:`PostgresFaults.outage`: ``ALLOW_CONNECTIONS false`` plus the same termination, so the
  database refuses every connection until :meth:`PostgresFaults.restore` (an outage as a client
  sees it, while the server keeps serving everyone else).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from types import TracebackType

import psycopg
from psycopg import sql

from cns.core.records import JobRecord, JobState
from cns.errors import StoreError
from cns.store.sql import SQLStore
from cns.store.sql.url import libpq_url, normalize_url
from cns.testing.services import DEFAULT_POSTGRES_URL


class PostgresFaults:
    """Faults on the database of ``database_url``, through an admin connection to another one."""

    def __init__(self, database_url: str, admin_url: str = DEFAULT_POSTGRES_URL) -> None:
        name = normalize_url(database_url).database
        assert name and name != normalize_url(admin_url).database, "never fault the shared database"
        self.name = name
        self._admin = psycopg.connect(libpq_url(admin_url), autocommit=True)

    def __enter__(self) -> PostgresFaults:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self.restore()
        finally:
            self._admin.close()

    def reset_connections(self) -> int:
        """Terminate every session of the database; return how many there were."""
        rows = self._admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (self.name,),
        ).fetchall()
        return sum(1 for (done,) in rows if done)

    def sessions(self) -> int:
        row = self._admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (self.name,)
        ).fetchone()
        return int(row[0]) if row else 0

    def outage(self) -> int:
        """Refuse new connections and cut the open ones; return how many sessions were cut."""
        self._allow(False)
        return self.reset_connections()

    def restore(self) -> None:
        self._allow(True)

    def _allow(self, allowed: bool) -> None:
        statement = sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(
            sql.Identifier(self.name), sql.Literal(allowed)
        )
        self._admin.execute(statement)


def job_states(store: SQLStore, job_ids: Iterable[str]) -> dict[str, JobRecord] | None:
    """The jobs' rows read straight from the database, or None while it cannot be reached."""
    try:
        rows = {j.job_id: j for j in store.list_jobs()}
    except StoreError:
        return None
    return {job_id: rows[job_id] for job_id in job_ids if job_id in rows}


def wait_finished(store: SQLStore, job_ids: list[str], timeout: float) -> dict[str, JobRecord]:
    """Poll the database until every job is SUCCESS or FAILURE; AssertionError with the stragglers."""
    deadline = time.monotonic() + timeout
    latest: dict[str, JobRecord] = {}
    while time.monotonic() < deadline:
        found = job_states(store, job_ids)
        if found is not None:
            latest = found
            if len(found) == len(job_ids) and all(j.state.terminal for j in found.values()):
                return found
        time.sleep(0.3)
    open_jobs = {k: v.state.value for k, v in latest.items() if v.state is not JobState.SUCCESS}
    raise AssertionError(f"timed out after {timeout} s; unfinished or failed: {open_jobs}")
