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


def prune_quarantine(dsn: str | None = None, today: dt.date | None = None,
                     keep_days: int = 90) -> dict:  # fmt: skip
    """Delete quarantined rows older than ``keep_days`` (by ``rejected_at``), counting them
    by source and reason first, so the run's log says what was let go."""
    today = today or dt.date.today()
    horizon = today - dt.timedelta(days=keep_days)
    conn = connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                "select source, reason, count(*) from raw.rejected_rows"
                " where rejected_at < %s group by source, reason order by source, reason",
                (horizon,),
            )
            counted = {f"{source}: {reason}": n for source, reason, n in cur.fetchall()}
            cur.execute("delete from raw.rejected_rows where rejected_at < %s", (horizon,))
            deleted = cur.rowcount
    finally:
        conn.close()
    return {"deleted": deleted, "before": str(horizon), "by_reason": counted}


def analyze_changed(
    dsn: str | None = None, schemas: tuple[str, ...] = ("raw", "ml", "app")
) -> list[str]:
    """``ANALYZE`` the tables changed since their last analysis (the planner's statistics
    follow the loads); returns which."""
    conn = connect(dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            # changed tables, and the partitioned parents of changed partitions (a parent's
            # statistics, over all its partitions, are only gathered by analyzing it)
            cur.execute(
                "with changed as (select relid from pg_stat_user_tables"
                "  where schemaname = any(%s) and n_mod_since_analyze > 0)"
                " select relid::regclass::text from changed"
                " union select i.inhparent::regclass::text from changed c"
                "  join pg_inherits i on i.inhrelid = c.relid order by 1",
                (list(schemas),),
            )
            tables = [r[0] for r in cur.fetchall()]
            for table in tables:
                cur.execute(f"analyze {table}")
    finally:
        conn.close()
    return tables
