"""Data-quality checks on a real warehouse: a clean sample warehouse and a brand-new one
pass; gaps, a stale symbol, a session without quotes and a quarantine spike fail with
their reasons — through the real ``maintain_warehouse`` DAG (``dag.test()``) — and
``/api/health`` (the real app, as the API's least-privilege role) says ``degraded`` with
them; the data fixed and the DAG re-run, it says ``healthy`` again."""

import datetime as dt
import json
import logging

import pendulum
import pytest
from conftest import ROOT, api_reader_dsn, load_sample
from stockmind.loader import quarantine, quarantine_record
from stockmind.providers.sample import SampleProvider
from stockmind.quality import check_quality
from stockmind.quotes import poll_quotes
from stockmind.universe import resolve_universe

# the DAG's 02:00 New York run of Monday 1 July 2024: it judges up to Friday 28 June
RUN = pendulum.datetime(2024, 7, 1, 2, 0, tz="America/New_York")
LAST_SESSION = dt.date(2024, 6, 28)
IN_SESSION = dt.datetime(2024, 6, 28, 14, 0, tzinfo=dt.UTC)  # 10:00 New York
DAY_BEFORE = dt.datetime(2024, 6, 27, 15, 0, tzinfo=dt.UTC)
CHECKS = {"missing_trading_days", "stale_symbols", "no_minute_quotes", "quarantine_spike"}
SYMBOLS = resolve_universe("sample")


def sample_warehouse(dsn: str) -> None:
    """What the other suites load: sample bars and profiles for the sample universe."""
    load_sample(dsn, SYMBOLS, dt.date(2024, 4, 1), LAST_SESSION, profiles=True)


def stored(db) -> dict[str, tuple]:
    with db.cursor() as cur:
        cur.execute("select check_name, ok, observed, threshold, reason from ops.quality_checks")
        return {name: rest for name, *rest in cur.fetchall()}


def quarantine_at(db, count: int, at: dt.datetime, reason: str) -> None:
    with db.cursor() as cur:
        records = [
            quarantine_record("sample", {"symbol": "AAPL", "n": f"{reason}{i}"}, reason, None)
            for i in range(count)
        ]
        quarantine(cur, records)
        cur.execute("update raw.rejected_rows set rejected_at = %s where reason = %s", (at, reason))


def health(dsn: str) -> tuple[int, dict]:
    from stockmind_api import create_app
    from stockmind_api.config import Config

    config = Config()
    config.DATABASE_URL = api_reader_dsn(dsn)
    app = create_app(config)
    try:
        reply = app.test_client().get("/api/health")
        return reply.status_code, reply.get_json()
    finally:
        app.extensions["db"].close()


def test_a_brand_new_platform_passes_and_health_says_not_run(warehouse, db):
    with db.cursor() as cur:  # the API role's grants name the marts' schema (dbt's)
        cur.execute("create schema if not exists marts")
    status, body = health(warehouse)
    assert status == 200 and body["message"] == "healthy", body
    data = body["data"]
    assert data["status"] == "healthy" and data["reasons"] == []
    assert data["quality"] == {"status": "not_run", "checkedAt": None, "checks": []}
    summary = check_quality(RUN, warehouse)
    assert summary["ok"] and set(summary["checks"]) == CHECKS, summary
    assert summary["checks"]["no_minute_quotes"]["reason"].startswith("not judged")
    assert summary["checks"]["stale_symbols"]["reason"] == "no symbols yet: nothing to be stale"
    data = health(warehouse)[1]["data"]
    assert data["status"] == "healthy" and data["quality"]["status"] == "passing"
    assert {c["name"] for c in data["quality"]["checks"]} == CHECKS


def test_a_clean_sample_warehouse_passes_every_check(warehouse, db, caplog):
    sample_warehouse(warehouse)
    poll_quotes(SYMBOLS, SampleProvider(), IN_SESSION, dsn=warehouse)
    load_sample(warehouse, ["ZZNEW"], dt.date(2024, 6, 20), LAST_SESSION)  # listed lately
    load_sample(warehouse, ["ZZOLD"], dt.date(2024, 4, 1), dt.date(2024, 5, 1))
    with db.cursor() as cur:  # delisted: marked inactive, so not stale
        cur.execute("update raw.symbols set is_active = false where symbol = 'ZZOLD'")
    quarantine_at(db, 40, RUN - dt.timedelta(hours=3), "missing_close")  # under the floor
    with caplog.at_level(logging.INFO, logger="stockmind.quality"):
        summary = check_quality(RUN, warehouse)
    assert summary["ok"] and summary["failed"] == [] and summary["as_of"] == "2024-07-01"
    checks = summary["checks"]
    assert (
        checks["stale_symbols"]["reason"] == "17 active symbol(s), each with a bar since 2024-06-26"
    )
    assert checks["no_minute_quotes"]["observed"] == 16
    assert checks["quarantine_spike"]["observed"] == 40
    assert checks["quarantine_spike"]["threshold"] == 50
    assert len(json.dumps(summary)) < 2000  # small and JSON-able: it travels through XCom
    assert {name: row[0] for name, row in stored(db).items()} == dict.fromkeys(CHECKS, True)
    logged = [r.getMessage() for r in caplog.records if r.name == "stockmind.quality"]
    assert len(logged) == 4 and all(": ok — " in line for line in logged), logged


def run_maintenance():
    from airflow.dag_processing.dagbag import DagBag

    path = ROOT / "dags" / "maintain_warehouse.py"
    run = DagBag(dag_folder=str(path)).dags["maintain_warehouse"].test(logical_date=RUN)
    assert run.state == "success"  # a failing check is a finding, not a failed task
    ti = {t.task_id: t for t in run.get_task_instances()}
    return ti["check_quality"].xcom_pull(task_ids="check_quality")


@pytest.mark.slow
def test_problems_fail_with_reasons_and_degrade_health_until_fixed(airflow_db, warehouse, db):
    sample_warehouse(warehouse)
    poll_quotes(SYMBOLS, SampleProvider(), DAY_BEFORE, dsn=warehouse)  # then the poll stopped
    with db.cursor() as cur:
        cur.execute("create schema if not exists marts")
        cur.execute(
            "delete from raw.prices_daily where symbol = 'AAPL' and trade_date = '2024-06-12'"
        )
        cur.execute(
            "delete from raw.prices_daily where symbol = 'MSFT' and trade_date > '2024-06-24'"
        )
    load_sample(warehouse, ["MSFT"], dt.date(2024, 7, 2), dt.date(2024, 7, 2))  # after the run
    quarantine_at(db, 14, RUN - dt.timedelta(days=8), "provider_error")  # ~1 a day before
    quarantine_at(db, 60, RUN - dt.timedelta(hours=5), "high_below_low")
    quarantine_at(db, 500, RUN + dt.timedelta(hours=1), "future_date")  # after the run

    summary = run_maintenance()
    assert summary["ok"] is False and set(summary["failed"]) == CHECKS, summary
    reasons = {name: row[3] for name, row in stored(db).items()}
    assert reasons["missing_trading_days"] == (
        "1 symbol(s) miss trading days in the sessions 2024-05-31..2024-06-28: AAPL (1)"
    )
    assert reasons["stale_symbols"] == (
        "1 of 16 active symbol(s) have no bar in the last 3 sessions (since 2024-06-26): "
        "MSFT (last 2024-06-24)"
    )
    assert reasons["no_minute_quotes"] == (
        "no minute quotes at all in market hours on 2024-06-28, though the poll was running "
        "in the days before"
    )
    assert reasons["quarantine_spike"].startswith(
        "60 rows quarantined in the last 24 h, over 50 (3× the 14-day daily average 1.0"
    )
    assert "sample: high_below_low 60" in reasons["quarantine_spike"]

    status, body = health(warehouse)
    assert status == 200 and body["message"] == "degraded", body  # 200: the service answers
    data = body["data"]
    assert data["status"] == "degraded" and data["quality"]["status"] == "failing"
    assert sorted(r.split(":")[0] for r in data["reasons"]) == sorted(CHECKS)
    assert f"stale_symbols: {reasons['stale_symbols']}" in data["reasons"]
    assert all(not c["ok"] and c["checkedAt"] for c in data["quality"]["checks"])

    # fixed: the bars reloaded, the poll back in the session, the bad rows dealt with
    load_sample(warehouse, ["AAPL", "MSFT"], dt.date(2024, 6, 1), LAST_SESSION)
    poll_quotes(SYMBOLS, SampleProvider(), IN_SESSION, dsn=warehouse)
    with db.cursor() as cur:
        cur.execute("delete from raw.rejected_rows where reason = 'high_below_low'")
    summary = run_maintenance()
    assert summary["ok"] and summary["failed"] == [], summary
    data = health(warehouse)[1]["data"]
    assert data["status"] == "healthy" and data["reasons"] == []
    assert data["quality"]["status"] == "passing"


def test_a_rerun_of_an_older_interval_keeps_the_newer_outcome_and_old_checks_go_stale(
    warehouse, db
):
    from stockmind_api.health.views import quality_summary

    check_quality(RUN, warehouse)  # empty warehouse: every check passes
    with db.cursor() as cur:  # an older interval re-run, now with a spike of rejections
        records = [quarantine_record("sample", {"n": i}, "missing_close", None) for i in range(80)]
        quarantine(cur, records)
        cur.execute("update raw.rejected_rows set rejected_at = %s",
                    (RUN - dt.timedelta(days=3, hours=2),))  # fmt: skip
    older = check_quality(RUN - dt.timedelta(days=3), warehouse)
    assert older["failed"] == ["quarantine_spike"]
    with db.cursor() as cur:
        cur.execute("select as_of, bool_and(ok) from ops.quality_checks group by as_of")
        assert cur.fetchall() == [(RUN.date(), True)]  # today's outcome stands
    with db.cursor() as cur:
        cur.execute("select check_name as name, ok, reason, checked_at from ops.quality_checks")
        names = ("name", "ok", "reason", "checked_at")
        checks = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    fresh, _ = quality_summary(checks, now=checks[0]["checked_at"] + dt.timedelta(hours=1))
    assert fresh["status"] == "passing"
    stale, reasons = quality_summary(checks, now=checks[0]["checked_at"] + dt.timedelta(days=2))
    assert stale["status"] == "stale" and reasons[0].startswith("quality checks: stale"), reasons
