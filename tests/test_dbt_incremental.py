"""The incremental indicator mart equals a full refresh (to 1e-9, every column), after new
days and after a backfill of older bars — and recomputes only what changed."""

import datetime as dt
import re

import numpy as np
import pandas as pd
import psycopg2
import pytest
from conftest import run_dbt
from stockmind.loader import load_prices
from stockmind.providers.sample import SampleProvider
from stockmind.trading_calendar import trading_days
from stockmind.validation import validate_prices

pytestmark = pytest.mark.slow
SYMBOLS = ["AAPL", "KO", "XOM"]
NO_LAG = '{"indicator_watermark_lag": "0 seconds"}'  # the 1-hour safety lag would widen every run


def load(dsn, symbols, start, end, drop=None, bump=None):
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
    conn = psycopg2.connect(dsn)
    stats = load_prices(conn, validate_prices(frame, as_of=dt.date(2030, 1, 1)), "sample")
    conn.close()
    return stats


def build(dsn, *extra):
    out = run_dbt(dsn, "run", "--select", "+fct_indicators_daily", "--vars", NO_LAG, *extra)
    return int(re.search(r"fct_indicators_daily .*\[(?:SELECT|INSERT 0) (\d+)", out).group(1))


def snapshot(dsn):
    from sqlalchemy import create_engine
    from stockmind.db import sqlalchemy_url

    engine = create_engine(sqlalchemy_url(dsn))
    try:
        frame = pd.read_sql(
            "select * from marts.fct_indicators_daily order by symbol, trade_date", engine
        )
    finally:
        engine.dispose()
    return frame.drop(columns=["source_ingested_at"])


def assert_equal_to_full_refresh(dsn):
    incremental = snapshot(dsn)
    build(dsn, "--full-refresh")
    full = snapshot(dsn)
    assert len(incremental) == len(full)
    assert (
        (
            incremental[["symbol", "trade_date", "row_num"]]
            == full[["symbol", "trade_date", "row_num"]]
        )
        .all()
        .all()
    )
    for col in full.columns.drop(["symbol", "trade_date"]):
        a, b = incremental[col].astype(float).to_numpy(), full[col].astype(float).to_numpy()
        assert np.array_equal(np.isnan(a), np.isnan(b)), f"{col}: NULLs differ"
        assert np.nanmax(np.abs(a - b), initial=0) <= 1e-9, (
            f"{col} differs by {np.nanmax(np.abs(a - b))}"
        )


def test_incremental_equals_full_refresh_after_new_days_and_backfills(module_warehouse):
    dsn = module_warehouse
    load(
        dsn,
        SYMBOLS,
        dt.date(2023, 1, 1),
        dt.date(2024, 6, 28),
        drop=("KO", "2024-02-01", "2024-02-15"),
    )
    first = build(dsn)
    assert first == 3 * 374 - 11  # 2023–H1 2024 trading days, KO's 11-day gap missing

    # new days: only July's bars are computed, continuing EMA/Wilder state from June 28
    load(dsn, SYMBOLS, dt.date(2024, 7, 1), dt.date(2024, 7, 31))
    assert build(dsn) == 3 * 22
    assert_equal_to_full_refresh(dsn)

    # a late backfill of KO's gap and a corrected AAPL bar: each symbol recomputed from its
    # earliest changed bar, XOM untouched
    load(dsn, ["KO"], dt.date(2024, 2, 1), dt.date(2024, 2, 15))
    load(dsn, ["AAPL"], dt.date(2024, 5, 10), dt.date(2024, 5, 10), bump=("AAPL", "2024-05-10"))
    ko_rows = len(trading_days(dt.date(2024, 2, 1), dt.date(2024, 7, 31)))
    aapl_rows = len(trading_days(dt.date(2024, 5, 10), dt.date(2024, 7, 31)))
    assert build(dsn) == ko_rows + aapl_rows
    assert_equal_to_full_refresh(dsn)
