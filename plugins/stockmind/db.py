"""Warehouse connections: the one place that turns settings into a DSN and a connection.

psycopg2 on purpose: the loaders need ``copy_expert`` and (later) ``LISTEN/NOTIFY``, and
Airflow's ``PostgresHook`` now hands out psycopg 3 connections that lack both.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

from stockmind.settings import Settings, get_settings

LOCAL_USER = "stockmind"
LOCAL_PASSWORD = "stockmind"
WAREHOUSE_DB = "stockmind"
#: Databases the local cluster holds: warehouse, Airflow metadata, MLflow tracking.
LOCAL_DATABASES = (WAREHOUSE_DB, "airflow", "mlflow")


class DatabaseNotConfigured(RuntimeError):
    """No DATABASE_URL and no running project-local cluster."""


def normalize_dsn(url: str) -> str:
    """Accept SQLAlchemy-style URLs (``postgresql+psycopg2://``) and return a libpq URL."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme == "postgres":
        scheme = "postgresql"
    if scheme != "postgresql":
        raise ValueError(f"DATABASE_URL must be a postgresql:// URL, got scheme {parts.scheme!r}")
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, parts.fragment))


def with_database(dsn: str, dbname: str) -> str:
    """The same server and credentials, another database."""
    parts = urlsplit(normalize_dsn(dsn))
    return urlunsplit((parts.scheme, parts.netloc, "/" + quote(dbname), parts.query, ""))


def sqlalchemy_url(dsn: str) -> str:
    """The psycopg2 SQLAlchemy URL for a libpq DSN (Airflow, MLflow, Alembic)."""
    return "postgresql+psycopg2://" + normalize_dsn(dsn).split("://", 1)[1]


def local_port(settings: Settings) -> int | None:
    """The port the project-local cluster was given at ``db up``, if it was set up."""
    port_file = settings.pg_dir / "port"
    if not port_file.exists():
        return None
    return int(port_file.read_text().strip())


def local_dsn(settings: Settings, dbname: str = WAREHOUSE_DB) -> str:
    port = local_port(settings)
    if port is None:
        raise DatabaseNotConfigured(
            "DATABASE_URL is not set and the project-local PostgreSQL is not set up: "
            "run `stockmind db up` (or `make up`), or export DATABASE_URL"
        )
    return f"postgresql://{LOCAL_USER}:{LOCAL_PASSWORD}@127.0.0.1:{port}/{dbname}"


def warehouse_dsn(settings: Settings | None = None) -> str:
    """DATABASE_URL when given, else the project-local cluster's warehouse database."""
    settings = settings or get_settings()
    if settings.database_url:
        return normalize_dsn(settings.database_url)
    return local_dsn(settings)


def connect(dsn: str | None = None, **kwargs) -> psycopg2.extensions.connection:
    """Open a psycopg2 connection to the warehouse (or ``dsn``)."""
    conn = psycopg2.connect(dsn or warehouse_dsn(), **kwargs)
    return conn


@contextmanager
def transaction(dsn: str | None = None) -> Iterator[psycopg2.extensions.connection]:
    """A connection whose work commits on success and rolls back on any error."""
    conn = connect(dsn)
    try:
        with conn:
            yield conn
    finally:
        conn.close()


def redact(dsn: str) -> str:
    """The DSN with its password masked, for logs and messages."""
    parts = urlsplit(dsn)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return dsn


def run_autocommit(dsn: str, statement, params=None) -> None:
    """Run one statement outside a transaction (``create/drop database`` need that)."""
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement, params)
    finally:
        conn.close()


def database_exists(server_dsn: str, name: str) -> bool:
    with psycopg2.connect(server_dsn) as conn, conn.cursor() as cur:
        cur.execute("select 1 from pg_database where datname = %s", (name,))
        found = cur.fetchone() is not None
    conn.close()
    return found


def create_database(server_dsn: str, name: str, exist_ok: bool = False) -> str:
    """Create database ``name`` on the server of ``server_dsn``; returns its DSN."""
    if not (exist_ok and database_exists(server_dsn, name)):
        run_autocommit(server_dsn, sql.SQL("create database {}").format(sql.Identifier(name)))
    return with_database(server_dsn, name)


def drop_database(server_dsn: str, name: str) -> None:
    """Drop ``name``, disconnecting its sessions (throwaway databases in tests, benches)."""
    statement = sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
    run_autocommit(server_dsn, statement)
