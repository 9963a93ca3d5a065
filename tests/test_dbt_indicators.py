"""Indicators computed by dbt on a real PostgreSQL, checked against published values
(StockCharts ChartSchool spreadsheets in ../shared/data/reference) to 1e-6, and against
the ``ta`` library on real symbols after warm-up (documenting where definitions differ).
"""

import datetime as dt

import numpy as np
import pandas as pd
import psycopg2
import pytest
from conftest import read_frame as query
from conftest import run_dbt, shared_data_dir
from stockmind.loader import load_prices
from stockmind.providers.csv import CsvProvider
from stockmind.validation import validate_prices

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]
TOL = 1e-6
REAL = ["AAPL", "MSFT", "JPM"]


def bars(symbol, dates, close, high=None, low=None, volume=None, fmt="%Y-%m-%d"):
    close = pd.Series(close, dtype=float).to_numpy()
    high = close if high is None else pd.Series(high, dtype=float).to_numpy()
    low = close if low is None else pd.Series(low, dtype=float).to_numpy()
    return pd.DataFrame(
        {
            "symbol": symbol,
            "trade_date": pd.to_datetime(dates, format=fmt),
            "open": close,
            "high": high,
            "low": low,
            "close": close,
            "adj_close": close,
            "volume": np.zeros(len(close))
            if volume is None
            else pd.Series(volume).fillna(0).to_numpy(),
        }
    )


@pytest.fixture(scope="module")
def reference():
    base = shared_data_dir()
    if base is None:
        pytest.skip("shared data absent: set STOCKMIND_SHARED_DATA or place ../shared/data")
    ref = base / "reference"
    return {
        "movavg": pd.read_csv(ref / "chartschool_cs-movavg_original.csv"),
        "rsi": pd.read_csv(ref / "chartschool_cs-rsi_original.csv"),
        "bbands": pd.read_csv(ref / "cs-bbands.csv"),
        "atr": pd.read_csv(ref / "cs-atr.csv"),
        "obv": pd.read_csv(ref / "cs-obv.csv"),
        "prices": base / "prices" / "all_stocks_5yr.csv.gz",
    }


@pytest.fixture(scope="module")
def mart(module_warehouse, reference):
    r = reference
    frames = [
        bars("REFMA", r["movavg"]["date"], r["movavg"]["price"]),
        bars("REFRSI", r["rsi"]["date"], r["rsi"]["close"]),
        bars("REFBB", r["bbands"]["Date"], r["bbands"]["Close"], fmt="%d-%b-%y"),
        bars(
            "REFATR",
            r["atr"]["Date"],
            r["atr"]["Close"],
            r["atr"]["High"],
            r["atr"]["Low"],
            fmt="%d-%b-%y",
        ),
        bars(
            "REFOBV", r["obv"]["Date"], r["obv"]["Close"], volume=r["obv"]["Volume"], fmt="%d/%m/%Y"
        ),
        CsvProvider(r["prices"]).fetch_daily(REAL, None, None).frame,
    ]
    conn = psycopg2.connect(module_warehouse)
    for frame in frames:
        checked = validate_prices(frame)
        assert checked.counts["rejected"] == 0
        load_prices(conn, checked, "test")
    conn.close()
    run_dbt(module_warehouse, "build")
    return query(
        module_warehouse, "select * from marts.fct_indicators_daily order by symbol, trade_date"
    )


def series(mart, symbol):
    return mart[mart.symbol == symbol].reset_index(drop=True)


def assert_matches(ours, published, label):
    published = pd.to_numeric(published, errors="coerce")
    mask = published.notna() & (published != 0)  # blank (and ATR's 0) = warm-up in the files
    assert mask.sum() > 5, label
    assert ours[~mask.to_numpy()].isna().all(), f"{label}: warm-up must be NULL"
    diff = ours[mask.to_numpy()].to_numpy() - published[mask].to_numpy()
    assert np.nanmax(np.abs(diff)) < TOL, f"{label}: max diff {np.nanmax(np.abs(diff))}"


def test_rsi_matches_chartschool(mart, reference):
    assert_matches(series(mart, "REFRSI")["rsi_14"], reference["rsi"]["rsi14"], "RSI(14)")
    assert_matches(series(mart, "REFRSI")["avg_gain_14"], reference["rsi"]["avg_gain"], "avg gain")


def test_bollinger_matches_chartschool(mart, reference):
    ours = series(mart, "REFBB")
    assert_matches(ours["bb_middle"], reference["bbands"]["MiddleBand"], "BB middle")
    assert_matches(ours["bb_upper"], reference["bbands"]["HighBand"], "BB upper")
    assert_matches(ours["bb_lower"], reference["bbands"]["LowBand"], "BB lower")


def test_atr_matches_chartschool(mart, reference):
    assert_matches(series(mart, "REFATR")["atr_14"], reference["atr"]["ATR"], "ATR(14)")


def test_obv_matches_chartschool(mart, reference):
    assert_matches(series(mart, "REFOBV")["obv"], reference["obv"]["OBV"], "OBV")


def test_sma10_and_ema10_macros_match_chartschool(module_warehouse, mart, reference):
    """The mart uses 12/26/20/50/200; the published SMA/EMA are 10-day: the same macros,
    compiled by dbt for n = 10, run on the same bars."""
    sql = run_dbt(
        module_warehouse,
        "compile",
        "--quiet",
        "--inline",
        "with prices as (select * from {{ ref('stg_prices_daily') }} where symbol = 'REFMA'),"
        " running_stats as (select *, true as is_new, row_number() over running as row_num,"
        " {{ running_stats('close') }}, sum(close::numeric) over running as sum_close_exact"
        " from prices window running as (partition by symbol order by"
        " trade_date rows between unbounded preceding and current row))"
        " select trade_date, {{ trailing_mean('sum_close_exact', 10) }} as sma_10,"
        " {{ ema('close', 10, 'null::float8') }} as ema_10 from running_stats"
        " window running as (partition by symbol order by trade_date rows between unbounded preceding"
        " and current row), by_symbol as (partition by symbol order by trade_date) order by trade_date",
    )
    ours = query(module_warehouse, sql)
    assert_matches(ours["sma_10"], reference["movavg"]["sma10"], "SMA(10)")
    assert_matches(ours["ema_10"], reference["movavg"]["ema10"], "EMA(10)")


@pytest.mark.parametrize("symbol", REAL)
def test_against_ta_after_warm_up(mart, symbol):
    import ta

    ours = series(mart, symbol)
    c, h, lo, v = ours["close"], ours["high"], ours["low"], ours["volume"].astype(float)
    after = ours.index >= 250  # ta seeds EMAs with the first value: compare once converged
    exact = {
        "sma_20": ta.trend.SMAIndicator(c, 20).sma_indicator(),
        "sma_200": ta.trend.SMAIndicator(c, 200).sma_indicator(),
        "bb_upper": ta.volatility.BollingerBands(c, 20, 2).bollinger_hband(),
        "bb_lower": ta.volatility.BollingerBands(c, 20, 2).bollinger_lband(),
        "atr_14": ta.volatility.AverageTrueRange(h, lo, c, 14).average_true_range(),
    }
    converged = {
        "ema_12": ta.trend.EMAIndicator(c, 12).ema_indicator(),
        "ema_26": ta.trend.EMAIndicator(c, 26).ema_indicator(),
        "rsi_14": ta.momentum.RSIIndicator(c, 14).rsi(),
        "macd": ta.trend.MACD(c).macd(),
        "macd_signal": ta.trend.MACD(c).macd_signal(),
    }
    for name, theirs in exact.items():
        valid = ours[name].notna()
        assert np.allclose(ours.loc[valid, name], theirs[valid], rtol=0, atol=TOL), name
    for name, theirs in converged.items():
        assert np.allclose(ours.loc[after, name], theirs[after], rtol=0, atol=TOL), name
    # ta's OBV starts with the first volume and adds volume on unchanged closes; ours
    # (StockCharts/TA-Lib) does neither: the difference is exactly those volumes.
    ta_obv = ta.volume.OnBalanceVolumeIndicator(c, v).on_balance_volume()
    unchanged = (c.diff() == 0).astype(float) * v
    expected = ta_obv - v.iloc[0] - unchanged.cumsum()
    assert np.allclose(ours["obv"][1:], expected[1:], rtol=0, atol=0.5)


def test_split_adjusted_prices_are_continuous(module_warehouse):
    """A 2:1 split in the raw close with a continuous adjusted close is no crash."""
    days = pd.bdate_range("2020-01-01", periods=60)
    raw = np.linspace(100, 110, 60)
    raw[30:] = raw[30:] / 2  # split on day 30: raw prices halve, adjusted series stays smooth
    frame = pd.DataFrame(
        {
            "symbol": "SPLIT",
            "trade_date": days,
            "open": raw,
            "high": raw * 1.01,
            "low": raw * 0.99,
            "close": raw,
            "adj_close": np.where(np.arange(60) < 30, raw / 2, raw),
            "volume": 1000,
        }
    )
    conn = psycopg2.connect(module_warehouse)
    load_prices(conn, validate_prices(frame, as_of=dt.date(2030, 1, 1)), "test")
    conn.close()
    run_dbt(
        module_warehouse, "build", "--select", "+fct_indicators_daily"
    )  # and its upstream views
    ours = query(
        module_warehouse,
        "select * from marts.fct_indicators_daily where symbol = 'SPLIT' order by trade_date",
    )
    assert ours["close"].pct_change().abs().max() < 0.01
    assert ours["high"].iloc[29] == pytest.approx(raw[29] / 2 * 1.01)  # high scaled by adj/close
    assert ours["atr_14"].max() < 2  # no 50-point true range at the split
