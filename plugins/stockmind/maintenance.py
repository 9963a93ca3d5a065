"""Warehouse housekeeping that TimescaleDB's policies do by themselves.

On plain PostgreSQL, retention means dropping whole partitions whose range ended before
the horizon (instant, no vacuum debt); on TimescaleDB the retention policy added by the
migration does it and this is a no-op.
"""

from __future__ import annotations

import datetime as dt

from stockmind import partitioning
from stockmind.db import connect


def partitions(cur, table: str) -> dict[str, dt.date]:
    """Partition name → exclusive upper bound of its range."""
    cur.execute(
        """
        select c.relname, pg_get_expr(c.relpartbound, c.oid)
        from pg_inherits i join pg_class c on c.oid = i.inhrelid
        where i.inhparent = %s::regclass
        """,
        (table,),
    )
    bounds = {}
    for name, expr in cur.fetchall():
        upper = expr.rsplit("TO ('", 1)[1].split("'", 1)[0]
        bounds[name] = dt.date.fromisoformat(upper[:10])
    return bounds


def apply_retention(dsn: str | None = None, today: dt.date | None = None) -> list[str]:
    """Drop expired partitions of every policy with a retention; returns what was dropped."""
    today = today or dt.date.today()
    dropped: list[str] = []
    conn = connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            if partitioning.timescale_in_use(cur):
                return []
            for policy in partitioning.POLICIES:
                schema = policy.table.split(".")[0]
                for name in partitioning.expired_partitions(
                    policy, partitions(cur, policy.table), today
                ):
                    cur.execute(f'drop table {schema}."{name}"')
                    dropped.append(f"{schema}.{name}")
    finally:
        conn.close()
    return dropped
