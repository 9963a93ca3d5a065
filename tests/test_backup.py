"""Backup and restore through the CLI on real databases: a loaded warehouse (prices,
profiles, the dbt marts, news and scores) dumped, restored into a new database, and
every table found equal, row for row."""

import datetime as dt
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg2
from conftest import create_database, drop_database, load_sample, run_dbt

STOCKMIND = str(Path(sys.executable).parent / "stockmind")


def tables(dsn: str) -> dict[str, tuple[int, str]]:
    """(rows, md5 of the rows in key order) of every table in our schemas."""
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "select n.nspname || '.' || c.relname from pg_class c join pg_namespace n"
                " on n.oid = c.relnamespace where c.relkind in ('r', 'p', 'm')"
                " and n.nspname in ('raw', 'app', 'ml', 'marts', 'staging', 'intermediate')"
                " and not c.relispartition order by 1"
            )
            found = {}
            for (table,) in cur.fetchall():
                cur.execute(f"select count(*), md5(coalesce(string_agg(t::text, '|'"
                            f" order by t::text), '')) from {table} t")  # fmt: skip
                found[table] = cur.fetchone()
            return found
    finally:
        conn.close()


def stockmind(dsn: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": dsn}
    return subprocess.run([STOCKMIND, *args], env=env, capture_output=True, text=True)


def test_a_backup_restores_into_a_new_database_with_every_table_equal(module_warehouse, tmp_path):
    from stockmind.news_ingest import ingest_news_batch
    from stockmind_ml.sentiment.tasks import score_news

    load_sample(module_warehouse, ["AAPL", "KO"], dt.date(2025, 1, 2), dt.date(2025, 3, 31),
                profiles=True)  # fmt: skip
    run_dbt(module_warehouse, "build", "--exclude", "resource_type:test")
    until = dt.datetime(2025, 3, 31, 23, tzinfo=dt.UTC)
    ingest_news_batch(["AAPL", "KO"], until - dt.timedelta(days=5), until, sources=["sample"],
                      dsn=module_warehouse, lookback=dt.timedelta())  # fmt: skip
    score_news(module_warehouse, mode="local")
    before = tables(module_warehouse)
    assert before["raw.prices_daily"][0] > 100 and before["ml.sentiment_scores"][0] > 0

    dump = tmp_path / "warehouse.dump"
    made = stockmind(module_warehouse, "db", "backup", str(dump))
    assert made.returncode == 0, made.stderr[-2000:]
    assert dump.stat().st_size > 10_000
    name = f"stockmind_restore_{uuid.uuid4().hex[:8]}"
    target = create_database(name)
    try:
        restored = stockmind(target, "db", "restore", str(dump))
        assert restored.returncode == 0, restored.stderr[-2000:]
        assert tables(target) == before  # every table, every row
        again = stockmind(target, "db", "restore", str(dump))  # not into a loaded database
        assert again.returncode != 0 and "already exists" in again.stderr
        assert tables(target) == before  # one transaction: nothing half-restored
    finally:
        drop_database(name)
    missing = stockmind(module_warehouse, "db", "restore", str(tmp_path / "nothing.dump"))
    assert missing.returncode == 2 and "no backup at" in missing.stderr
