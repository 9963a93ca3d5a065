"""The ``stockmind`` command line, run as a user runs it (a real process, a real database)."""

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest

STOCKMIND = str(Path(sys.executable).parent / "stockmind")


def run(*args, env_extra=None, **kw):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([STOCKMIND, *args], capture_output=True, text=True, env=env, **kw)


def on(warehouse, *args):
    """Run stockmind against the test's throwaway warehouse."""
    return run(*args, env_extra={"DATABASE_URL": warehouse})


def test_db_url_honours_database_url():
    proc = run(
        "db", "url", env_extra={"DATABASE_URL": "postgresql+psycopg2://u:p@db.example:5433/wh"}
    )
    assert proc.returncode == 0
    assert proc.stdout.strip() == "postgresql://u:p@db.example:5433/wh"


def test_ingest_sample_prices_then_rerun_is_a_noop(warehouse, db):
    args = (
        "ingest",
        "prices",
        "--source",
        "sample",
        "--symbols",
        "AAPL,MSFT",
        "KO",
        "--start",
        "2024-01-01",
        "--end",
        "2024-01-31",
    )
    first = on(warehouse, *args)
    assert first.returncode == 0, first.stderr
    assert '"written": 63' in first.stdout  # 3 symbols × 21 trading days
    assert "[1/1] 3 symbols" in first.stderr  # progress
    second = on(warehouse, *args)
    assert '"written": 0' in second.stdout and '"unchanged": 63' in second.stdout
    profiles = on(warehouse, "ingest", "profiles", "--source", "sample", "--symbols", "AAPL")
    assert profiles.returncode == 0, profiles.stderr
    with db.cursor() as cur:
        cur.execute("select name from raw.symbols where symbol = 'AAPL'")
        assert cur.fetchone() == ("Apple Inc.",)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ingest", "prices", "--source", "csv"), "needs a path"),
        (
            (
                "ingest",
                "prices",
                "--source",
                "sample",
                "--start",
                "2024-02-01",
                "--end",
                "2024-01-01",
            ),
            "is after",
        ),
        (("ingest", "prices", "--start", "yesterday"), "not a date"),
        (("ingest", "prices", "--source", "csv", "--path", "/nonexistent.csv"), "does not exist"),
    ],
)
def test_bad_input_gets_a_clear_error(args, message, warehouse):
    proc = on(warehouse, *args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_ingest_quotes_runs_one_poll_cycle_whatever_the_hour(warehouse, db):
    """Sunday night in New York: the DAG would skip, the command polls (and announces)."""
    listener = psycopg2.connect(warehouse)
    listener.autocommit = True
    with listener.cursor() as cur:
        cur.execute("listen stockmind_events")
    args = ("ingest", "quotes", "--source", "sample", "--symbols", "AAPL", "KO")
    proc = on(warehouse, *args, "--at", "2024-03-11T03:00:00Z")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert (report["quotes"], report["changed"], report["notifications"]) == (2, 2, 1)
    listener.poll()
    assert len(listener.notifies) == 1 and '"stock_update"' in listener.notifies[0].payload
    listener.close()
    bad = on(warehouse, *args, "--at", "yesterday")
    assert bad.returncode == 2 and "not a timestamp" in bad.stderr


def test_airflow_passthrough_uses_project_settings(tmp_path):
    proc = run(
        "airflow",
        "config",
        "get-value",
        "core",
        "load_examples",
        env_extra={"STOCKMIND_HOME": str(tmp_path), "DATABASE_URL": "postgresql://x@127.0.0.1:1/x"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"
    assert (tmp_path / "airflow").is_dir()  # AIRFLOW_HOME under the project's state


def test_csv_with_column_mapping(tmp_path, warehouse, db):
    path = tmp_path / "quotes.csv"
    path.write_text(
        "Day,Ticker,O,H,L,C,Vol\n2024-01-02,aapl,10,11,9,10.5,100\n2024-01-03,AAPL,10,9,9.5,9.8,100\n"
    )
    csv_args = ("ingest", "prices", "--source", "csv", "--path", str(path), "--columns")
    mapping = "trade_date=Day,symbol=Ticker,open=O,high=H,low=L,close=C,volume=Vol"
    proc = on(warehouse, *csv_args, mapping)
    assert proc.returncode == 0, proc.stderr
    with db.cursor() as cur:
        cur.execute("select symbol, trade_date::text, close from raw.prices_daily")
        assert cur.fetchall() == [("AAPL", "2024-01-02", 10.5)]
        cur.execute("select reason from raw.rejected_rows")
        assert cur.fetchall() == [("high_below_open_close;high_below_low",)]
    bad = on(warehouse, *csv_args, "when=Day")
    assert bad.returncode == 2 and "unknown mapping targets" in bad.stderr


def test_dbt_runs_with_the_project_profile_on_database_url(warehouse):
    proc = on(warehouse, "dbt", "debug")
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "All checks passed!" in proc.stdout
    assert warehouse.rsplit("/", 1)[1] in proc.stdout  # the database of DATABASE_URL


def test_up_history_window_ends_where_the_backfill_begins():
    from stockmind.platform.sample_history import history_window

    today = dt.date(2026, 11, 22)  # a Sunday
    # backfill from Thu 22 Oct: its first run (Thu 17:30 → Fri 17:30) loads Fri 23 Oct
    assert history_window(today, 3, dt.date(2026, 10, 22)) == (
        dt.date(2023, 11, 22),
        dt.date(2026, 10, 22),
    )
    # from Sat 24 Oct: the first run is Mon 17:30 → Tue, so Monday is history's
    assert history_window(today, 3, dt.date(2026, 10, 24))[1] == dt.date(2026, 10, 26)
    assert history_window(dt.date(2028, 2, 29), 1, dt.date(2028, 2, 29)) == (
        dt.date(2027, 2, 28),
        dt.date(2028, 2, 28),  # never today's bar: the scheduler's run loads it after 17:30
    )


def test_up_loads_sample_history_once_through_the_bulk_path(warehouse, db, monkeypatch):
    from conftest import table_digest
    from stockmind.platform.sample_history import history_window, load_history
    from stockmind.settings import get_settings
    from stockmind.trading_calendar import trading_days

    monkeypatch.setenv("STOCKMIND_PRICE_SOURCE", "sample")
    monkeypatch.delenv("STOCKMIND_UNIVERSE", raising=False)
    settings = get_settings()
    backfill_start = dt.date.today() - dt.timedelta(days=30)
    first, last = history_window(dt.date.today(), 3, backfill_start)
    dates = trading_days(first, last)
    days = len(dates)
    loaded = load_history(settings, warehouse, 3, backfill_start)
    assert loaded["written"] == 16 * days > 16 * 700
    assert loaded["line"].startswith(f"3 years of sample prices: {16 * days:,} bars in ")
    with db.cursor() as cur:
        cur.execute(
            "select count(distinct symbol), min(trade_date), max(trade_date), count(*) "
            "from raw.prices_daily"
        )
        assert cur.fetchone() == (16, dates[0], dates[-1], 16 * days)
    digest = table_digest(db, "raw.prices_daily", "symbol, trade_date")
    again = load_history(settings, warehouse, 3, backfill_start)
    assert again == {"line": "3 years of sample prices already loaded (16 symbols)", "written": 0}
    assert table_digest(db, "raw.prices_daily", "symbol, trade_date") == digest  # not touched
    with db.cursor() as cur:  # a hole in one symbol's history: only that symbol is loaded
        cur.execute(
            "delete from raw.prices_daily where symbol = 'KO' and trade_date = %s", dates[-1:]
        )
    refill = load_history(settings, warehouse, 3, backfill_start)
    assert refill["written"] == 1 and ", 1 symbol, " in refill["line"]
    assert load_history(settings, warehouse, 0, backfill_start)["written"] == 0
    monkeypatch.setenv("STOCKMIND_PRICE_SOURCE", "csv")
    skipped = load_history(get_settings(), warehouse, 3, backfill_start)
    assert skipped["written"] == 0 and "not loaded for source csv" in skipped["line"]
