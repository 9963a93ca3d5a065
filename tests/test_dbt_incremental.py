"""The incremental marts equal a full refresh (to 1e-9, every column) — the indicators after
new days and backfills, the scanners and their movers/overview after new days, late bars,
deletions and corrections at the source — and recompute only what changed, tracked
exactly (ops.change_log): a build with nothing new rewrites nothing, and a load still in
flight during a build is picked up by the next one."""

import datetime as dt
import re

import numpy as np
import pandas as pd
import psycopg2
import pytest
from conftest import read_frame, run_dbt, table_digest
from stockmind.ingest import ingest_price_batch
from stockmind.loader import load_prices, log_price_changes
from stockmind.providers.base import FetchResult
from stockmind.providers.sample import SampleProvider
from stockmind.trading_calendar import trading_days
from stockmind.validation import validate_prices

pytestmark = pytest.mark.slow
SYMBOLS = ["AAPL", "KO", "XOM"]
#: every incremental mart, with its key
MARTS = {
    "fct_indicators_daily": "symbol, trade_date",
    "fct_scanner_daily": "symbol, period_start",
    "fct_scanner_weekly": "symbol, period_start",
    "fct_movers_daily": "period_start, list, rank",
    "fct_movers_weekly": "period_start, list, rank",
    "fct_market_overview_daily": "period_start",
    "fct_market_overview_weekly": "period_start",
}
ALL_MARTS = [f"+{name}" for name in MARTS]


def sample_frame(symbols, start, end, drop=None, bump=None):
    frame = SampleProvider().fetch_daily(symbols, start, end).frame
    if drop:
        symbol, first, last = drop
        gap = (frame.symbol == symbol) & frame.trade_date.between(
            pd.Timestamp(first), pd.Timestamp(last)
        )
        frame = frame[~gap]
    if bump:  # a corrected older bar: the close (and adjusted close) moves up 1 %
        symbol, day = bump
        row = (frame.symbol == symbol) & (frame.trade_date == pd.Timestamp(day))
        frame.loc[row, ["close", "adj_close", "high"]] *= 1.01
    return frame.reset_index(drop=True)


def load(dsn, symbols, start, end, drop=None, bump=None):
    frame = sample_frame(symbols, start, end, drop, bump)
    conn = psycopg2.connect(dsn)
    stats = load_prices(conn, validate_prices(frame, as_of=dt.date(2030, 1, 1)), "sample")
    conn.close()
    return stats


def rows_written(out: str) -> dict[str, int]:
    """Rows each mart's build wrote (dbt's log: [INSERT 0 n] incremental, [SELECT n] full)."""
    return {
        name: int(count)
        for name, count in re.findall(r"model marts\.(\w+) \.*.*?\[(?:SELECT|INSERT 0) (\d+)", out)
    }


def build(dsn, *extra, select=("+fct_indicators_daily",)):
    return rows_written(run_dbt(dsn, "run", "--select", *select, *extra))


def snapshot(dsn, table="fct_indicators_daily"):
    frame = read_frame(dsn, f"select * from marts.{table} order by {MARTS[table]}")
    return frame.drop(columns=["source_ingested_at"], errors="ignore")


def assert_frames_equal(incremental, full, label):
    assert len(incremental) == len(full), f"{label}: {len(incremental)} rows vs {len(full)}"
    assert list(incremental.columns) == list(full.columns), label
    for col in full.columns:
        a, b = incremental[col], full[col]
        if pd.api.types.is_numeric_dtype(b) and not pd.api.types.is_bool_dtype(b):
            a, b = a.astype(float).to_numpy(), b.astype(float).to_numpy()
            assert np.array_equal(np.isnan(a), np.isnan(b)), f"{label}.{col}: NULLs differ"
            assert np.nanmax(np.abs(a - b), initial=0) <= 1e-9, (
                f"{label}.{col} differs by {np.nanmax(np.abs(a - b))}"
            )
        else:
            assert (a.isna() == b.isna()).all(), f"{label}.{col}: NULLs differ"
            assert (a[a.notna()] == b[b.notna()]).all(), f"{label}.{col} differs"


def assert_equal_to_full_refresh(dsn, tables=("fct_indicators_daily",)):
    incremental = {table: snapshot(dsn, table) for table in tables}
    build(dsn, "--full-refresh", select=[f"+{table}" for table in tables])
    for table in tables:
        assert_frames_equal(incremental[table], snapshot(dsn, table), table)


def digests(dsn):
    conn = psycopg2.connect(dsn)
    try:
        return {name: table_digest(conn, f"marts.{name}", key) for name, key in MARTS.items()}
    finally:
        conn.close()


def scalar(dsn, sql, params=None):
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchone()[0]
    finally:
        conn.close()


def test_incremental_equals_full_refresh_after_new_days_and_backfills(module_warehouse):
    dsn = module_warehouse
    load(
        dsn,
        SYMBOLS,
        dt.date(2023, 1, 1),
        dt.date(2024, 6, 28),
        drop=("KO", "2024-02-01", "2024-02-15"),
    )
    first = build(dsn)["fct_indicators_daily"]
    assert first == 3 * 374 - 11  # 2023–H1 2024 trading days, KO's 11-day gap missing

    # new days: only July's bars are computed, continuing EMA/Wilder state from June 28
    load(dsn, SYMBOLS, dt.date(2024, 7, 1), dt.date(2024, 7, 31))
    assert build(dsn)["fct_indicators_daily"] == 3 * 22
    assert_equal_to_full_refresh(dsn)

    # a late backfill of KO's gap and a corrected AAPL bar: each symbol recomputed from its
    # earliest changed bar, XOM untouched
    load(dsn, ["KO"], dt.date(2024, 2, 1), dt.date(2024, 2, 15))
    load(dsn, ["AAPL"], dt.date(2024, 5, 10), dt.date(2024, 5, 10), bump=("AAPL", "2024-05-10"))
    ko_rows = len(trading_days(dt.date(2024, 2, 1), dt.date(2024, 7, 31)))
    aapl_rows = len(trading_days(dt.date(2024, 5, 10), dt.date(2024, 7, 31)))
    assert build(dsn)["fct_indicators_daily"] == ko_rows + aapl_rows
    assert_equal_to_full_refresh(dsn)

    # a re-run of the same loads changes nothing, logs nothing, recomputes nothing
    load(dsn, ["KO"], dt.date(2024, 2, 1), dt.date(2024, 2, 15))
    assert build(dsn)["fct_indicators_daily"] == 0


class EditedSource:
    """The sample source as it answers after the provider deleted and corrected bars."""

    name = "sample"

    def __init__(self, delete=(), correct=()):
        self.delete, self.correct = set(delete), set(correct)

    def fetch_daily(self, symbols, start, end):
        frame = SampleProvider().fetch_daily(symbols, start, end).frame
        keys = list(zip(frame.symbol, frame.trade_date.dt.date, strict=True))
        frame = frame[[key not in self.delete for key in keys]].reset_index(drop=True)
        for symbol, day in self.correct:
            row = (frame.symbol == symbol) & (frame.trade_date == pd.Timestamp(day))
            frame.loc[row, ["close", "adj_close", "high"]] *= 1.02
        return FetchResult(frame)


UNIVERSE = ["AAPL", "KO", "XOM", "MSFT", "JPM"]


@pytest.fixture(scope="module")
def scanned():
    """Its own warehouse (the indicator test above has the module's): a year of bars for
    five symbols through a Wednesday, every incremental mart built."""
    import uuid

    from conftest import create_database, drop_database
    from stockmind import migrate

    name = f"stockmind_test_{uuid.uuid4().hex[:10]}"
    dsn = create_database(name)
    migrate.upgrade(dsn)
    load(dsn, UNIVERSE, dt.date(2023, 6, 1), dt.date(2024, 6, 26))
    built = build(dsn, select=ALL_MARTS)
    assert built["fct_scanner_daily"] == built["fct_indicators_daily"] > 0  # the first: all
    yield dsn
    drop_database(name)


def test_scanners_update_only_changed_periods_and_equal_a_full_refresh(scanned):
    dsn = scanned
    # nothing new: no mart rewrites a row (same contents, same row versions)
    before = digests(dsn)
    assert set(build(dsn, select=ALL_MARTS).values()) == {0}
    assert digests(dsn) == before

    # one new day (Thursday): one day rescanned, the current week's weekly rows only
    load(dsn, UNIVERSE, dt.date(2024, 6, 27), dt.date(2024, 6, 27))
    built = build(dsn, select=ALL_MARTS)
    assert built["fct_indicators_daily"] == built["fct_scanner_daily"] == len(UNIVERSE)
    assert built["fct_scanner_weekly"] == len(UNIVERSE)  # the week of June 24
    assert built["fct_market_overview_daily"] == built["fct_market_overview_weekly"] == 1
    assert_equal_to_full_refresh(dsn, list(MARTS))

    # a late bar three weeks back (MSFT's June 5 corrected) and a new day: the daily scan
    # from June 5 on, the weekly one from that week on, for every symbol (ranks)
    load(dsn, ["MSFT"], dt.date(2024, 6, 5), dt.date(2024, 6, 5), bump=("MSFT", "2024-06-05"))
    load(dsn, UNIVERSE, dt.date(2024, 6, 28), dt.date(2024, 6, 28))
    built = build(dsn, select=ALL_MARTS)
    days = len(trading_days(dt.date(2024, 6, 5), dt.date(2024, 6, 28)))
    assert built["fct_scanner_daily"] == len(UNIVERSE) * days
    assert built["fct_scanner_weekly"] == len(UNIVERSE) * 4  # weeks of June 3, 10, 17, 24
    assert_equal_to_full_refresh(dsn, list(MARTS))

    # the source deleted XOM's June 12 and corrected KO's June 20: a re-fetch of the month
    # deletes and updates them, and both flow through every mart
    source = EditedSource(delete={("XOM", dt.date(2024, 6, 12))}, correct={("KO", "2024-06-20")})
    report = ingest_price_batch(
        ["XOM", "KO"], dt.date(2024, 6, 1), dt.date(2024, 6, 28), provider=source, dsn=dsn
    )
    assert (report.load["deleted"], report.load["written"]) == (1, 1)
    build(dsn, select=ALL_MARTS)
    gone = "select count(*) from marts.{} where symbol = 'XOM' and {} = '2024-06-12'"
    assert scalar(dsn, gone.format("fct_indicators_daily", "trade_date")) == 0
    assert scalar(dsn, gone.format("fct_scanner_daily", "period_start")) == 0
    assert_equal_to_full_refresh(dsn, list(MARTS))

    # after a complete build, the log keeps no row that every consumer of its stream has
    # taken (selected runs, like the ones above, prune nothing)
    run_dbt(dsn, "build")
    consumed = """
        select count(*) from ops.change_log as log
        where log.txid < (select min(pg_snapshot_xmin(mark.consumed))
                          from ops.change_watermarks as mark where mark.stream = log.stream)
    """
    assert scalar(dsn, consumed) == 0
    assert scalar(dsn, "select count(*) from ops.change_watermarks") == len(MARTS)


def test_a_load_in_flight_during_a_build_is_picked_up_by_the_next(scanned):
    """A load that took its transaction id before another load committed, but commits
    after a build ran: that build cannot see it, the next one takes it."""
    dsn = scanned
    day = dt.date(2024, 6, 3)
    late = psycopg2.connect(dsn)
    try:
        with late.cursor() as cur:  # an older transaction writes first (its id is lower)…
            row = sample_frame(["JPM"], day, day, bump=("JPM", day.isoformat())).iloc[0]
            cur.execute(
                "update raw.prices_daily set close = %s, adj_close = %s, high = %s"
                " where symbol = 'JPM' and trade_date = %s",
                (float(row.close), float(row.adj_close), float(row.high), day),
            )
            log_price_changes(cur, [("JPM", day)])
        # …a later load commits, and a build runs while the first is still in flight
        load(dsn, UNIVERSE, dt.date(2024, 7, 1), dt.date(2024, 7, 1))
        built = build(dsn, select=ALL_MARTS)
        assert built["fct_indicators_daily"] == len(UNIVERSE)  # July 1 only
        late.commit()
    finally:
        late.close()
    built = build(dsn, select=ALL_MARTS)
    jpm_rows = scalar(
        dsn,
        "select count(*) from raw.prices_daily where symbol = 'JPM' and trade_date >= %s",
        (day,),
    )
    assert built["fct_indicators_daily"] == jpm_rows
    assert_equal_to_full_refresh(dsn, list(MARTS))


def dbt_failure(dsn: str, *args: str) -> str:
    """``stockmind dbt <args>`` that must fail; returns its output."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    stockmind = str(Path(sys.executable).parent / "stockmind")
    env = {**os.environ, "DATABASE_URL": dsn, "DBT_USE_COLORS": "false"}
    proc = subprocess.run([stockmind, "dbt", *args], env=env, capture_output=True, text=True)
    assert proc.returncode != 0, proc.stdout[-3000:]
    return proc.stdout


def test_a_build_tests_the_rows_it_changed_and_dbt_test_every_row(scanned):
    """The big marts' tests read, in an incremental build, only the rows the build changed
    (macros/tests/get_where_subquery.sql): a broken row nothing touched passes a build,
    fails `dbt test` and a build with test_all_rows, and is tested — recomputed — once a
    change reaches it."""
    dsn = scanned
    run_dbt(
        dsn, "build"
    )  # a complete build: what earlier (selected) runs logged is tested and pruned
    broken = "update marts.fct_indicators_daily set sma_20 = null where symbol = 'KO' and trade_date = %s"
    day = dt.date(2023, 9, 5)  # far from any change, well past SMA(20)'s warm-up
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(broken, (day,))
            assert cur.rowcount == 1
    finally:
        conn.close()
    test_name = "null_until_row_fct_indicators_daily_sma_20__20"
    failed = rf"FAIL 1 {test_name} "
    out = run_dbt(dsn, "build", "--select", "fct_indicators_daily")  # nothing changed
    assert re.search(rf"PASS {test_name} ", out), out[-3000:]  # …so the row was not read
    assert re.search(failed, dbt_failure(dsn, "test", "--select", "fct_indicators_daily"))
    out = dbt_failure(
        dsn, "build", "--select", "fct_indicators_daily", "--vars", "{test_all_rows: true}"
    )
    assert re.search(failed, out), out[-3000:]
    # a change logged for KO from that day: the build recomputes KO from it and tests it
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            log_price_changes(cur, [("KO", day)])
    finally:
        conn.close()
    out = run_dbt(dsn, "build", "--select", "fct_indicators_daily")
    assert re.search(rf"PASS {test_name} ", out), out[-3000:]
    run_dbt(dsn, "test", "--select", "fct_indicators_daily")
    assert_equal_to_full_refresh(dsn, list(MARTS))


def test_a_unique_index_proves_a_unique_test_and_without_it_the_rows_are_grouped(scanned):
    """unique_combination passes from the catalog when a unique index enforces the key;
    with the index dropped, a duplicate is found by grouping the rows."""
    dsn = scanned
    test = "unique_combination_fct_scanner_daily_period_start__active_rank"
    selector = "fct_scanner_daily,test_name:unique_combination"
    assert re.search(rf"PASS {test} ", run_dbt(dsn, "test", "--select", selector))
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                "select indexname from pg_indexes where schemaname = 'marts'"
                " and tablename = 'fct_scanner_daily' and indexdef like '%(period_start, active_rank)'"
            )
            (index,) = cur.fetchone()
            cur.execute(f'drop index marts."{index}"')
            cur.execute(
                """update marts.fct_scanner_daily set active_rank = 1
                   where period_start = (select max(period_start) from marts.fct_scanner_daily)
                     and active_rank = 2"""
            )
            assert cur.rowcount == 1
    finally:
        conn.close()
    assert re.search(rf"FAIL 1 {test} ", dbt_failure(dsn, "test", "--select", selector))
    run_dbt(dsn, "build", "--select", "fct_scanner_daily+", "--full-refresh")  # indexes back
    assert re.search(rf"PASS {test} ", run_dbt(dsn, "test", "--select", selector))


def test_a_failed_build_keeps_the_log_for_the_next_one_to_test(scanned):
    """The views over the prices are tested on raw.prices_daily's log rows, which the
    indicator mart consumes whatever its tests say: a build that failed (or a selected
    one) prunes nothing, so the next complete build tests those bars; it then prunes."""
    dsn = scanned
    run_dbt(dsn, "build")  # the log as a complete build leaves it
    day = dt.date(2024, 7, 2)
    load(dsn, UNIVERSE, day, day)
    logged = "select count(*) from ops.change_log where stream = 'raw.prices_daily'"
    assert scalar(dsn, logged) == len(UNIVERSE)
    # a trend threshold the stored rows were not built with: every-row tests fail
    out = dbt_failure(dsn, "build", "--vars", "{test_all_rows: true, scanner_trend_votes: 99}")
    assert re.search(r"FAIL \d+ expression_is_true_fct_scanner_daily__trend_Bullish", out)
    assert scalar(dsn, logged) == len(UNIVERSE)  # kept for the next build's tests
    assert (
        scalar(dsn, "select count(*) from ops.change_watermarks where consumer like 'run:%'") == 0
    )
    run_dbt(dsn, "build", "--full-refresh")  # the marts as the default vars build them
    run_dbt(dsn, "build")
    assert scalar(dsn, logged) == 0
    assert_equal_to_full_refresh(dsn, list(MARTS))
