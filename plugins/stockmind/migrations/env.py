"""Alembic environment: migrations run on the connection ``stockmind.migrate`` hands in."""

from alembic import context
from sqlalchemy import create_engine, pool

from stockmind.db import sqlalchemy_url, warehouse_dsn

config = context.config
connection = config.attributes.get("connection")


def run(conn) -> None:
    context.configure(connection=conn, transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    run(connection)
else:
    url = config.get_main_option("sqlalchemy.url") or sqlalchemy_url(warehouse_dsn())
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        run(conn)
