"""Warehouse housekeeping: retention for every level, quarantine, statistics, and
Airflow's own metadata.

On plain PostgreSQL, retention means dropping whole partitions whose range ended before
the horizon (instant, no vacuum debt); on TimescaleDB the policies do it in the
background, and a run sets them to the configured retention and drops what is due now
(so a shortened setting takes effect, and the run records it). The hourly bars are a
dbt table on both paths: expired hours are deleted, counted. Every horizon comes from a
date the caller gives (the DAG run's), never the clock, so a re-run does the same.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

from stockmind import partitioning
from stockmind.db import connect
from stockmind.settings import Settings, get_settings

log = logging.getLogger(__name__)

#: The hourly level (dbt's incremental mart; it outlives the minutes it was built from).
HOURLY_BARS = "marts.fct_bars_hourly"
#: Airflow metadata that grows with every run. Not ``dag``/``dag_version`` (the DAGs
#: themselves) nor ``asset_event`` (what asset-triggered DAGs wait on).
AIRFLOW_CLEAN_TABLES = (
    "dag_run",
    "task_instance",
    "task_instance_history",
    "task_reschedule",
    "xcom",
    "log",
    "job",
)
#: the CeleryExecutor's result backend in the metadata database: one row per task run
CELERY_CLEAN_TABLES = ("celery_taskmeta", "celery_tasksetmeta")
#: the metadata database's real URL for the CLI (see clean_airflow_metadata)
METADATA_URL_ENV = "STOCKMIND_AIRFLOW_DB_URL"


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


def apply_retention(
    dsn: str | None = None, today: dt.date | None = None, settings: Settings | None = None
) -> list[str]:
    """Drop the partitions (TimescaleDB: chunks) past each level's configured retention;
    returns what was dropped, and logs each partition with its row count."""
    today = today or dt.date.today()
    settings = settings or get_settings()
    dropped: list[str] = []
    conn = connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            if partitioning.timescale_in_use(cur):
                return _timescale_retention(cur, today, settings)
            for policy in partitioning.policies(settings):
                schema = policy.table.split(".")[0]
                for name in partitioning.expired_partitions(
                    policy, partitions(cur, policy.table), today
                ):
                    cur.execute(f'select count(*) from {schema}."{name}"')
                    rows = cur.fetchone()[0]
                    cur.execute(f'drop table {schema}."{name}"')
                    kept = policy.retention
                    log.info(
                        "retention: dropped %s.%s (%d rows, kept %s)", schema, name, rows, kept
                    )
                    dropped.append(f"{schema}.{name}")
    finally:
        conn.close()
    return dropped


def _timescale_retention(cur, today: dt.date, settings: Settings) -> list[str]:
    """Each level's retention policy set to the configured value, then its due chunks
    dropped now (cut off at ``today``'s horizon: local midnight for timestamps)."""
    tz = settings.exchange_tz
    levels = [
        (p.table, p.retention, None if p.time_column == "trade_date" else tz)
        for p in partitioning.policies(settings)
    ]
    cur.execute("select to_regclass(%s)", (partitioning.HOURLY_AGGREGATE,))
    if cur.fetchone()[0] is not None:
        hourly = partitioning.retention_interval(settings.retention_hourly_months, "months")
        levels.append((partitioning.HOURLY_AGGREGATE, hourly, tz))
    dropped: list[str] = []
    for table, retention, zone in levels:
        for stmt in partitioning.retention_policy_statements(table, retention):
            cur.execute(stmt)
        if retention:
            horizon = partitioning.retention_horizon(retention, today)
            cur.execute(partitioning.drop_chunks_statement(table, horizon, zone))
            chunks = [row[0] for row in cur.fetchall()]
            log.info("retention: %s kept %s, dropped chunks %s", table, retention, chunks)
            dropped += chunks
    return dropped


def prune_hourly_bars(
    dsn: str | None = None,
    today: dt.date | None = None,
    keep_months: int = 12,
    tz: str = "America/New_York",
) -> dict:
    """Delete hourly bars that started before the horizon (local midnight, ``keep_months``
    before ``today``; 0 keeps them all); returns how many, for the run's record. Nothing
    to do before dbt first builds the table."""
    today = today or dt.date.today()
    retention = partitioning.retention_interval(keep_months, "months")
    if retention is None:
        return {"table": HOURLY_BARS, "before": None, "deleted": 0}
    horizon = partitioning.retention_horizon(retention, today)
    deleted = 0
    conn = connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("select to_regclass(%s)", (HOURLY_BARS,))
            if cur.fetchone()[0] is not None:
                cur.execute(
                    f"delete from {HOURLY_BARS} where hour < %s::timestamp at time zone %s",
                    (horizon, tz),
                )
                deleted = cur.rowcount
    finally:
        conn.close()
    log.info("retention: deleted %d hourly bars before %s (kept %s)", deleted, horizon, retention)
    return {"table": HOURLY_BARS, "before": str(horizon), "deleted": deleted}


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
    dsn: str | None = None, schemas: tuple[str, ...] = ("raw", "ml", "app", "marts")
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


def airflow_clean_command(
    before: dt.datetime, airflow: str = "airflow", tables: tuple[str, ...] = AIRFLOW_CLEAN_TABLES
) -> list[str]:
    """``airflow db clean`` of ``tables`` for rows older than ``before``: no archive tables
    (they would grow instead), no prompt, and a failed table fails the command. It keeps
    each DAG's latest scheduled run, which the scheduler plans the next one from."""
    return [
        airflow, "db", "clean",
        "--clean-before-timestamp", before.isoformat(),
        "--tables", ",".join(tables),
        "--skip-archive", "--yes", "--error-on-cleanup-failure",
    ]  # fmt: skip


def clean_airflow_metadata(before: dt.datetime, airflow: str | None = None) -> dict:
    """Purge Airflow's metadata older than ``before`` with its own CLI (the core stays free
    of Airflow imports); returns the rows found and deleted per table.

    Inside a task Airflow 3 hides the metadata database: the supervisor sets
    ``AIRFLOW__DATABASE__SQL_ALCHEMY_CONN`` to ``airflow-db-not-allowed:///`` before the
    task's code runs, and a child process inherits that. The platform therefore also gives
    every Airflow process the real URL as ``STOCKMIND_AIRFLOW_DB_URL`` (``make up``'s
    environment, compose), and the CLI gets it back here."""
    airflow = airflow or str(Path(sys.executable).with_name("airflow"))
    env = dict(os.environ)
    if os.environ.get(METADATA_URL_ENV):
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = os.environ[METADATA_URL_ENV]
    tables = AIRFLOW_CLEAN_TABLES
    if "celery" in os.environ.get("AIRFLOW__CORE__EXECUTOR", "").lower():
        tables += CELERY_CLEAN_TABLES
    proc = subprocess.run(
        airflow_clean_command(before, airflow, tables), capture_output=True, text=True, env=env
    )
    if proc.returncode != 0:
        raise RuntimeError(f"airflow db clean failed: {(proc.stderr or proc.stdout)[-2000:]}")
    deleted = clean_counts(proc.stdout)
    log.info("airflow db clean before %s: %s", before.isoformat(), deleted)
    return {"before": before.isoformat(), "deleted": deleted}


def clean_counts(output: str) -> dict[str, int]:
    """Rows per table from ``airflow db clean``'s output ("Checking table t" then "Found N
    rows meeting deletion criteria.")."""
    counts: dict[str, int] = {}
    table = None
    for line in output.splitlines():
        if match := re.match(r"\s*Checking table (\S+)", line):
            table = match.group(1)
        elif (match := re.match(r"\s*Found (\d+) rows meeting deletion criteria", line)) and table:
            counts[table] = int(match.group(1))
    return counts
