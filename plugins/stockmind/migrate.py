"""Schema migrations (Alembic, SQL in Python files under ``migrations/versions``).

``stockmind db migrate`` and ``make up`` call :func:`upgrade`; it is safe to run again.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, pool

from stockmind.db import sqlalchemy_url, warehouse_dsn

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def upgrade(dsn: str | None = None, revision: str = "head") -> str | None:
    """Apply migrations up to ``revision``; returns the revision the database is at."""
    engine = create_engine(sqlalchemy_url(dsn or warehouse_dsn()), poolclass=pool.NullPool)
    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    return current(dsn)


def downgrade(dsn: str | None = None, revision: str = "base") -> None:
    engine = create_engine(sqlalchemy_url(dsn or warehouse_dsn()), poolclass=pool.NullPool)
    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def current(dsn: str | None = None) -> str | None:
    engine = create_engine(sqlalchemy_url(dsn or warehouse_dsn()), poolclass=pool.NullPool)
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()
