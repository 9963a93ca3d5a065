"""Time-series storage: TimescaleDB when the server has it, native partitioning otherwise.

One policy table drives both paths, so the two cannot drift:

* **TimescaleDB** — hypertables with chunk intervals sized to the data (daily bars:
  one-year chunks, so a compressed segment holds ~250 rows per symbol; minute quotes:
  one-day chunks), compression segmented by symbol, retention for minute data.
* **Plain PostgreSQL** — declarative range partitions (yearly / monthly) created on
  demand by the loader, B-tree primary keys and BRIN indexes on time; retention drops
  whole expired partitions.

Each level's retention is a setting (``STOCKMIND_RETENTION_*``, see :func:`policies`);
the hourly level is a continuous aggregate on TimescaleDB (:func:`hourly_aggregate_statements`)
and dbt's ``fct_bars_hourly`` otherwise.

Everything here returns SQL text; callers execute it.  That keeps the TimescaleDB path
testable on a server that cannot run it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stockmind.settings import Settings

TIMESCALE_AVAILABLE_SQL = "select 1 from pg_available_extensions where name = 'timescaledb'"
TIMESCALE_IN_USE_SQL = "select 1 from pg_extension where extname = 'timescaledb'"
#: The hourly level on TimescaleDB: a continuous aggregate of the minute quotes.
HOURLY_AGGREGATE = "raw.quotes_hourly"


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


#: The seed policy: minute quotes kept 3 months, daily bars kept forever (the settings'
#: defaults; :func:`policies` applies the configured retention).
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


def retention_interval(amount: int, unit: str) -> str | None:
    """``"3 months"`` from a setting; 0 means keep forever (None)."""
    if amount < 0:
        raise ValueError(f"retention must not be negative: {amount} {unit}")
    return f"{amount} {unit}" if amount else None


def policies(settings: Settings | None = None) -> tuple[TimePolicy, ...]:
    """:data:`POLICIES` with each level's retention from the settings
    (STOCKMIND_RETENTION_DAILY_YEARS, STOCKMIND_RETENTION_MINUTE_MONTHS), so migrations,
    maintenance and TimescaleDB's policies all read one configured value."""
    from stockmind.settings import get_settings

    settings = settings or get_settings()
    retention = {
        "raw.prices_daily": retention_interval(settings.retention_daily_years, "years"),
        "raw.quotes_minute": retention_interval(settings.retention_minute_months, "months"),
    }
    return tuple(replace(p, retention=retention[p.table]) for p in POLICIES)


def policy_for(table: str, settings: Settings | None = None) -> TimePolicy:
    for policy in policies(settings):
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
    horizon = retention_horizon(policy.retention, today)
    return sorted(name for name, upper in partitions.items() if upper <= horizon)


def retention_horizon(retention: str, today: dt.date) -> dt.date:
    """The first day still kept: ``today`` minus ``retention`` (months or years; a day
    past the 28th counts as the 28th, so every month has the day)."""
    amount, unit = retention.split()
    if not unit.startswith(("month", "year")):
        raise ValueError(f"retention must be in months or years: {retention}")
    months = int(amount) * (12 if unit.startswith("year") else 1)
    total = today.year * 12 + (today.month - 1) - months
    return dt.date(total // 12, total % 12 + 1, min(today.day, 28))


def hourly_aggregate_statements(
    tz: str, hourly_retention: str | None, minute_retention: str | None
) -> list[str]:
    """TimescaleDB's hourly level: a continuous aggregate of the minute quotes in the
    exchange's hours, the same bars dbt's ``fct_bars_hourly`` computes on plain
    PostgreSQL (open = first price, close = last, the session's cumulative volume at the
    hour's last quote; dbt differences it into the hour's volume, a window a continuous
    aggregate cannot hold).

    Real-time (``materialized_only = false``), so the running hour is visible. Created
    empty (``with no data`` may run in the migration's transaction); the refresh policy
    fills it. Its window reaches back to a day short of the minute retention: far enough
    to materialize every stored minute on its first run, never so far that it refreshes
    a range whose minutes were dropped (which would empty those hours).
    """
    bucket = f"time_bucket(interval '1 hour', ts, '{tz}')"
    start = f"interval '{minute_retention}' - interval '1 day'" if minute_retention else "null"
    stmts = [
        f"create materialized view if not exists {HOURLY_AGGREGATE}"
        " with (timescaledb.continuous, timescaledb.materialized_only = false) as"
        f" select symbol, {bucket} as hour,"
        " first(price, ts) as open, max(price) as high, min(price) as low,"
        " last(price, ts) as close, max(volume) as day_volume, count(*) as quotes,"
        " max(ingested_at) as source_ingested_at"
        f" from raw.quotes_minute group by symbol, {bucket} with no data",
        f"select add_continuous_aggregate_policy('{HOURLY_AGGREGATE}', start_offset => {start},"
        " end_offset => interval '1 hour', schedule_interval => interval '30 minutes',"
        " if_not_exists => true)",
    ]
    return stmts + retention_policy_statements(HOURLY_AGGREGATE, hourly_retention)


def retention_policy_statements(table: str, retention: str | None) -> list[str]:
    """Set a hypertable's (or continuous aggregate's) retention policy to ``retention``
    (None: keep forever) whatever it was before, so a changed setting takes effect."""
    stmts = [f"select remove_retention_policy('{table}', if_exists => true)"]
    if retention:
        stmts.append(
            f"select add_retention_policy('{table}', interval '{retention}', if_not_exists => true)"
        )
    return stmts


def drop_chunks_statement(table: str, horizon: dt.date, tz: str | None = None) -> str:
    """Drop the chunks wholly before ``horizon`` (a date for a date-keyed table, local
    midnight in ``tz`` for a timestamp-keyed one) — a date, not ``now()``, so a re-run cuts
    where its run did; the statement returns the dropped chunks' names."""
    cutoff = f"date '{horizon}'" if tz is None else f"timestamp '{horizon}' at time zone '{tz}'"
    return f"select drop_chunks('{table}', older_than => {cutoff})"


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
    cur.execute(TIMESCALE_IN_USE_SQL)
    return cur.fetchone() is not None
