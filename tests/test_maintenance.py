"""Housekeeping on a real warehouse: old quarantined rows counted by reason, then deleted
(recent ones kept); tables changed since their last analysis get ANALYZE; each level's
configured retention drops only expired partitions, logged with their row counts (and
reaches TimescaleDB's statements, checked as text); ``airflow db clean`` purges old runs
from the test session's own Airflow metadata database."""

import datetime as dt
import json
import logging

import pendulum
import pytest
from conftest import ROOT
from stockmind import partitioning
from stockmind.loader import ensure_partitions, quarantine, quarantine_record
from stockmind.maintenance import analyze_changed, apply_retention, prune_quarantine
from stockmind.settings import Settings, get_settings


def test_old_quarantine_is_counted_then_deleted_and_changed_tables_analyzed(warehouse, db):
    today = dt.date(2026, 6, 30)
    with db.cursor() as cur:
        records = [quarantine_record("sample", {"symbol": f"S{i}", "n": i}, reason, None)
                   for i, reason in enumerate(["missing_close", "missing_close", "future_date"])]  # fmt: skip
        quarantine(cur, records)
        cur.execute(  # two rows 100 days old, one yesterday
            "update raw.rejected_rows set rejected_at = %s where payload->>'n' in ('0', '2')",
            (dt.datetime(2026, 3, 22, tzinfo=dt.UTC),),
        )
        cur.execute("update raw.rejected_rows set rejected_at = %s where payload->>'n' = '1'",
                    (dt.datetime(2026, 6, 29, tzinfo=dt.UTC),))  # fmt: skip
    pruned = prune_quarantine(warehouse, today=today, keep_days=90)
    assert pruned["deleted"] == 2 and pruned["before"] == "2026-04-01"
    assert pruned["by_reason"] == {"sample: future_date": 1, "sample: missing_close": 1}
    with db.cursor() as cur:
        cur.execute("select payload->>'n' from raw.rejected_rows")
        assert cur.fetchall() == [("1",)]
    assert prune_quarantine(warehouse, today=today, keep_days=90)["deleted"] == 0
    json.dumps(pruned)  # small and JSON-able: it travels through XCom
    analyzed = analyze_changed(warehouse)
    assert "raw.rejected_rows" in analyzed
    assert "raw.rejected_rows" not in analyze_changed(warehouse)  # nothing changed since


def test_each_level_keeps_its_configured_retention_and_logs_what_it_dropped(warehouse, db, caplog):
    with db.cursor() as cur:
        for day in (dt.date(2019, 6, 3), dt.date(2024, 6, 3)):
            ensure_partitions(cur, "raw.prices_daily", day, day)
            cur.execute(
                "insert into raw.prices_daily (symbol, trade_date, open, high, low, close,"
                " adj_close, volume, source) values ('AAA', %s, 1, 1, 1, 1, 1, 1, 'test')",
                (day,),
            )
        stamps = [(4, 15, 14), (4, 15, 15), (5, 15, 15), (6, 15, 15)]
        for month, day, hour in stamps:
            at = dt.datetime(2026, month, day, hour, tzinfo=dt.UTC)
            ensure_partitions(cur, "raw.quotes_minute", at.date(), at.date())
            cur.execute(
                "insert into raw.quotes_minute (symbol, ts, price, source)"
                " values ('AAA', %s, 1, 'test')",
                (at,),
            )
    today = dt.date(2026, 6, 30)
    assert apply_retention(warehouse, today=today, settings=Settings()) == []  # 3 months, forever
    configured = Settings(retention_minute_months=1, retention_daily_years=5)
    with caplog.at_level(logging.INFO, logger="stockmind.maintenance"):
        dropped = apply_retention(warehouse, today=today, settings=configured)
    assert dropped == ["raw.prices_daily_y2019", "raw.quotes_minute_m202604"]
    assert "dropped raw.prices_daily_y2019 (1 rows, kept 5 years)" in caplog.text
    assert "dropped raw.quotes_minute_m202604 (2 rows, kept 1 months)" in caplog.text
    with db.cursor() as cur:
        cur.execute("select count(*) from raw.quotes_minute")
        assert cur.fetchone()[0] == 2  # May's partition ends after the 28 May horizon: kept
        cur.execute("select trade_date from raw.prices_daily")
        assert cur.fetchall() == [(dt.date(2024, 6, 3),)]


def test_retention_settings_reach_the_timescaledb_statements(monkeypatch):
    """TimescaleDB is not installable here: its statements are checked as text."""
    configured = Settings(retention_minute_months=6, retention_daily_years=5)
    minute = partitioning.policy_for("raw.quotes_minute", configured)
    daily = partitioning.policy_for("raw.prices_daily", configured)
    assert "add_retention_policy('raw.quotes_minute', interval '6 months'" in "\n".join(
        partitioning.timescale_statements(minute)
    )
    assert partitioning.retention_policy_statements("raw.prices_daily", daily.retention) == [
        "select remove_retention_policy('raw.prices_daily', if_exists => true)",
        "select add_retention_policy('raw.prices_daily', interval '5 years', if_not_exists => true)",
    ]
    assert partitioning.policy_for("raw.prices_daily", Settings()).retention is None
    assert partitioning.retention_policy_statements("raw.prices_daily", None) == [
        "select remove_retention_policy('raw.prices_daily', if_exists => true)"
    ]
    assert partitioning.drop_chunks_statement("raw.prices_daily", dt.date(2021, 6, 28)) == (
        "select drop_chunks('raw.prices_daily', older_than => date '2021-06-28')"
    )
    assert partitioning.drop_chunks_statement(
        "raw.quotes_minute", dt.date(2026, 3, 28), "America/New_York"
    ) == (
        "select drop_chunks('raw.quotes_minute', older_than =>"
        " timestamp '2026-03-28' at time zone 'America/New_York')"
    )
    create, refresh, *retention = partitioning.hourly_aggregate_statements(
        "America/New_York", "12 months", "3 months"
    )
    assert create.startswith("create materialized view if not exists raw.quotes_hourly with (")
    assert "timescaledb.continuous, timescaledb.materialized_only = false" in create
    assert "time_bucket(interval '1 hour', ts, 'America/New_York') as hour" in create
    assert "first(price, ts) as open" in create and "last(price, ts) as close" in create
    assert create.endswith("with no data")  # may run inside the migration's transaction
    # the refresh window stops a day short of the minutes' retention: never refreshes
    # (and so empties) hours whose minutes were dropped
    assert "start_offset => interval '3 months' - interval '1 day'" in refresh
    assert retention[-1] == (
        "select add_retention_policy('raw.quotes_hourly', interval '12 months',"
        " if_not_exists => true)"
    )
    forever = partitioning.hourly_aggregate_statements("America/New_York", None, None)
    assert "start_offset => null" in forever[1] and len(forever) == 3
    monkeypatch.setenv("STOCKMIND_RETENTION_HOURLY_MONTHS", "-1")
    with pytest.raises(ValueError, match="STOCKMIND_RETENTION_HOURLY_MONTHS"):
        get_settings()


@pytest.mark.slow
def test_airflow_db_clean_purges_old_runs_keyed_on_the_data_interval(airflow_db, warehouse):
    """The DAG's task purges the session's own Airflow metadata: a run aged 400 days goes
    (its task instances with it), the current run stays."""
    from airflow.dag_processing.dagbag import DagBag
    from sqlalchemy import create_engine, text

    path = ROOT / "dags" / "maintain_warehouse.py"
    dag = DagBag(dag_folder=str(path)).dags["maintain_warehouse"]
    today = pendulum.now("America/New_York").start_of("day").add(hours=2)
    old = dag.test(logical_date=today.subtract(days=3))
    engine = create_engine(airflow_db)
    with engine.begin() as conn:
        for table in ("dag_run", "task_instance"):
            conn.execute(
                text(
                    f"update {table} set start_date = start_date - interval '400 days'"
                    " where dag_id = 'maintain_warehouse' and run_id = :run"
                ),
                {"run": old.run_id},
            )
    run = dag.test(logical_date=today.subtract(days=2))
    ti = {t.task_id: t for t in run.get_task_instances()}
    assert ti["clean_airflow_metadata"].state == "success"
    cleaned = ti["clean_airflow_metadata"].xcom_pull(task_ids="clean_airflow_metadata")
    assert cleaned["before"] == (run.data_interval_end - dt.timedelta(days=30)).isoformat()
    assert cleaned["deleted"]["dag_run"] == 1
    json.dumps(cleaned)
    with engine.connect() as conn:
        runs = conn.execute(
            text("select run_id from dag_run where dag_id = 'maintain_warehouse'")
        ).scalars()
        assert old.run_id not in set(runs)
        left = conn.execute(
            text("select count(*) from task_instance where run_id = :run"), {"run": old.run_id}
        ).scalar()
        assert left == 0
        kept = conn.execute(
            text("select count(*) from task_instance where run_id = :run"), {"run": run.run_id}
        ).scalar()
        assert kept == len(run.get_task_instances())
    engine.dispose()


def test_old_run_records_go_but_each_dags_latest_stays(warehouse, db):
    from stockmind.run_log import prune_runs, record_run

    for dag_id, run_id in (("poll_quotes", "a"), ("poll_quotes", "b"), ("ingest_news", "c")):
        record_run(dag_id, run_id, None, 1, 0, dsn=warehouse)
    with db.cursor() as cur:  # all three long finished; b is the poll's latest
        cur.execute("update ops.pipeline_runs set finished_at = %s where run_id = 'a'",
                    (dt.datetime(2026, 1, 1, tzinfo=dt.UTC),))  # fmt: skip
        cur.execute("update ops.pipeline_runs set finished_at = %s where run_id <> 'a'",
                    (dt.datetime(2026, 1, 2, tzinfo=dt.UTC),))  # fmt: skip
    assert prune_runs(dt.datetime(2026, 6, 1, tzinfo=dt.UTC), dsn=warehouse) == 1
    with db.cursor() as cur:
        cur.execute("select run_id from ops.pipeline_runs order by run_id")
        assert cur.fetchall() == [("b",), ("c",)]
