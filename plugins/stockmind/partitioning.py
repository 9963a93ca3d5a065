"""Time-series storage: TimescaleDB when the server has it, native partitioning otherwise.

One policy table drives both paths, so the two cannot drift:

* **TimescaleDB** — hypertables with chunk intervals sized to the data (daily bars:
  one-year chunks, so a compressed segment holds ~250 rows per symbol; minute quotes:
  one-day chunks), compression segmented by symbol, retention for minute data.
* **Plain PostgreSQL** — declarative range partitions (yearly / monthly) created on
  demand by the loader, B-tree primary keys and BRIN indexes on time; retention drops
  whole expired partitions.

Everything here returns SQL text; callers execute it.  That keeps the TimescaleDB path
testable on a server that cannot run it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

TIMESCALE_AVAILABLE_SQL = "select 1 from pg_available_extensions where name = 'timescaledb'"


@dataclass(frozen=True)
class TimePolicy:
    """How one time-keyed table is stored and aged."""

    table: str  # schema-qualified
    time_column: str
    chunk_interval: str  # TimescaleDB chunk_time_interval
    partition_unit: str  # native partitions: "year" | "month"
    compress_after: str | None  # TimescaleDB compression policy
    retention: str | None  # drop data older than this (None: keep forever)
    segment_by: str = "symbol"


#: The seed policy: minute quotes kept 3 months, daily bars kept forever.
POLICIES: tuple[TimePolicy, ...] = (
    TimePolicy(
        table="raw.prices_daily",
        time_column="trade_date",
        chunk_interval="1 year",
        partition_unit="year",
        compress_after="2 years",
        retention=None,
    ),
    TimePolicy(
        table="raw.quotes_minute",
        time_column="ts",
        chunk_interval="1 day",
        partition_unit="month",
        compress_after="7 days",
        retention="3 months",
    ),
)


def policy_for(table: str) -> TimePolicy:
    for policy in POLICIES:
        if policy.table == table:
            return policy
    raise KeyError(table)


def timescale_statements(policy: TimePolicy) -> list[str]:
    """Turn a plain table into a compressed hypertable with its policies."""
    stmts = [
        f"select create_hypertable('{policy.table}', by_range('{policy.time_column}', "
        f"interval '{policy.chunk_interval}'), if_not_exists => true, migrate_data => true)",
        f"alter table {policy.table} set (timescaledb.compress, "
        f"timescaledb.compress_segmentby = '{policy.segment_by}', "
        f"timescaledb.compress_orderby = '{policy.time_column} desc')",
    ]
    if policy.compress_after:
        stmts.append(
            f"select add_compression_policy('{policy.table}', interval "
            f"'{policy.compress_after}', if_not_exists => true)"
        )
    if policy.retention:
        stmts.append(
            f"select add_retention_policy('{policy.table}', interval '{policy.retention}', "
            "if_not_exists => true)"
        )
    return stmts


def partition_clause(policy: TimePolicy, timescale: bool) -> str:
    """The ``partition by`` suffix of the ``create table`` for the chosen path."""
    return "" if timescale else f" partition by range ({policy.time_column})"


def native_index_statements(policy: TimePolicy) -> list[str]:
    """BRIN on time for range scans across symbols (B-tree comes with the primary key)."""
    name = policy.table.split(".")[1]
    return [
        f"create index if not exists {name}_{policy.time_column}_brin "
        f"on {policy.table} using brin ({policy.time_column})"
    ]


def _period_start(value: dt.date, unit: str) -> dt.date:
    return dt.date(value.year, 1, 1) if unit == "year" else dt.date(value.year, value.month, 1)


def _next_period(value: dt.date, unit: str) -> dt.date:
    if unit == "year":
        return dt.date(value.year + 1, 1, 1)
    return dt.date(value.year + (value.month == 12), value.month % 12 + 1, 1)


def partition_name(policy: TimePolicy, start: dt.date) -> str:
    base = policy.table.split(".")[1]
    suffix = f"y{start:%Y}" if policy.partition_unit == "year" else f"m{start:%Y%m}"
    return f"{base}_{suffix}"


def partition_statements(policy: TimePolicy, first: dt.date, last: dt.date) -> list[str]:
    """``create table if not exists … partition of`` for every period in [first, last]."""
    schema = policy.table.split(".")[0]
    stmts = []
    start = _period_start(first, policy.partition_unit)
    while start <= last:
        end = _next_period(start, policy.partition_unit)
        stmts.append(
            f"create table if not exists {schema}.{partition_name(policy, start)} "
            f"partition of {policy.table} for values from ('{start}') to ('{end}')"
        )
        start = end
    return stmts


def expired_partitions(
    policy: TimePolicy, partitions: dict[str, dt.date], today: dt.date
) -> list[str]:
    """Names of partitions whose whole range lies before the retention horizon.

    ``partitions`` maps partition name → exclusive upper bound.  Only policies with a
    retention drop anything; the bound must be at or before ``today - retention``.
    """
    if not policy.retention:
        return []
    amount, unit = policy.retention.split()
    months = int(amount) * (12 if unit.startswith("year") else 1)
    if not unit.startswith(("month", "year")):
        raise ValueError(f"retention must be in months or years: {policy.retention}")
    total = today.year * 12 + (today.month - 1) - months
    horizon = dt.date(total // 12, total % 12 + 1, min(today.day, 28))
    return sorted(name for name, upper in partitions.items() if upper <= horizon)


def use_timescale(bind, mode: str | None = None) -> bool:
    """Decide the storage path on a SQLAlchemy connection; enables the extension if used.

    ``mode`` is STOCKMIND_TIMESCALEDB: ``auto`` uses TimescaleDB when the server offers
    it, ``on`` requires it, ``off`` never uses it.
    """
    from stockmind.settings import get_settings

    mode = mode or get_settings().timescaledb
    if mode == "off":
        return False
    available = bind.exec_driver_sql(TIMESCALE_AVAILABLE_SQL).first() is not None
    if not available:
        if mode == "on":
            raise RuntimeError("STOCKMIND_TIMESCALEDB=on but the server has no timescaledb")
        return False
    bind.exec_driver_sql("create extension if not exists timescaledb")
    return True


def timescale_in_use(cur) -> bool:
    """Whether the warehouse (a psycopg2 cursor) stores time tables as hypertables."""
    cur.execute("select 1 from pg_extension where extname = 'timescaledb'")
    return cur.fetchone() is not None
