"""Which database a store opens: one place that turns configuration into a SQLAlchemy URL.

The default is a SQLite file inside ``data_dir`` so that a laptop user needs no server; setting
``CNS_DATABASE_URL`` switches to PostgreSQL. Heroku-style ``postgres://`` and bare
``postgresql://`` URLs are rewritten to the psycopg 3 driver, because SQLAlchemy would otherwise
pick psycopg2, which CNS does not install.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from cns.config.settings import CNSConfig
from cns.errors import ConfigError

SQLITE_FILENAME = "cns.sqlite3"
_PG_ALIASES = ("postgres", "postgresql", "postgresql+psycopg2", "postgresql+psycopg")


def sqlite_url(path: str | Path) -> URL:
    """The URL of the SQLite file ``path`` (its folder is created on open, not here)."""
    return URL.create("sqlite+pysqlite", database=str(Path(path).expanduser()))


def normalize_url(url: str | URL) -> URL:
    """Parse ``url`` and pin PostgreSQL to psycopg 3; raise :class:`ConfigError` if unusable."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except ArgumentError as exc:
        raise ConfigError.for_key("database_url", f"not a database URL ({exc})") from None
    backend = parsed.get_backend_name()
    if parsed.drivername in _PG_ALIASES:
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise ConfigError.for_key(
                "database_url", "an in-memory SQLite database cannot be shared; give a file path"
            )
        return parsed.set(drivername="sqlite+pysqlite")
    raise ConfigError.for_key(
        "database_url", f"unsupported database {backend!r}: use a sqlite:/// path or postgresql:// URL"
    )


def database_url(config: CNSConfig) -> URL:
    """``config.database_url`` if set, else ``<data_dir>/cns.sqlite3``."""
    if config.database_url is not None:
        return normalize_url(config.database_url.get_secret_value())
    return sqlite_url(Path(config.data_dir) / SQLITE_FILENAME)


def libpq_url(url: str | URL, *, database: str | None = None) -> str:
    """``url`` as a libpq connection URL (what ``psycopg.connect`` takes), password kept;
    ``database`` replaces its database name."""
    parsed = (make_url(url) if isinstance(url, str) else url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def url_host(url: str | URL) -> str | None:
    """The host ``url`` points at (None for a local socket or a file)."""
    return (make_url(url) if isinstance(url, str) else url).host


def masked_url(url: str | URL) -> str:
    """``url`` with any password masked (safe to log or show)."""
    return (make_url(url) if isinstance(url, str) else url).render_as_string(hide_password=True)


def with_database(url: str | URL, database: str) -> str:
    """The store URL of database ``database`` on the server of ``url`` (password kept)."""
    return normalize_url(url).set(database=database).render_as_string(hide_password=False)
