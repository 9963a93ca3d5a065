"""Scanner marts on real PostgreSQL, recomputed independently in pandas from the raw bars."""

import datetime as dt

import numpy as np
import pandas as pd
import psycopg2
import pytest
from conftest import read_frame as query
from conftest import run_dbt
from stockmind.loader import load_prices
from stockmind.providers.sample import SampleProvider
from stockmind.universe import resolve_universe
from stockmind.validation import validate_prices

pytestmark = pytest.mark.slow
DAY = pd.Timestamp("2024-06-14")


@pytest.fixture(scope="module")
def built(module_warehouse):
    frame = (
        SampleProvider()
        .fetch_daily(resolve_universe("sample"), dt.date(2023, 6, 1), dt.date(2024, 6, 28))
        .frame
    )
    conn = psycopg2.connect(module_warehouse)
    load_prices(conn, validate_prices(frame, as_of=dt.date(2030, 1, 1)), "sample")
    conn.close()
    run_dbt(module_warehouse, "build")  # models and every dbt test (ranks, flags, overview)
    return module_warehouse, frame.sort_values(["symbol", "trade_date"]).reset_index(drop=True)


def expected_daily(frame):
    g = frame.groupby("symbol")
    out = frame.assign(
        change_pct=100 * g["close"].pct_change(),
        avg_volume=g["volume"].transform(lambda v: v.shift(1).rolling(20).mean()),
        prior_high=g["high"].transform(lambda v: v.shift(1).rolling(20).max()),
    )
    return out[out.trade_date == DAY].set_index("symbol")


def test_daily_lists_match_an_independent_computation(built):
    dsn, frame = built
    exp = expected_daily(frame)
    movers = query(
        dsn,
        f"select * from marts.fct_movers_daily where trade_date = '{DAY.date()}' order by list, rank",
    )
    gainers = movers[movers.list == "gainers"]["symbol"].tolist()
    assert (
        gainers
        == exp[exp.change_pct > 0].sort_values("change_pct", ascending=False).index[:10].tolist()
    )
    losers = movers[movers.list == "losers"]["symbol"].tolist()
    assert losers == exp[exp.change_pct < 0].sort_values("change_pct").index[:10].tolist()
    active = movers[movers.list == "most_active"]["symbol"].tolist()
    assert active == exp.sort_values("volume", ascending=False).index[:10].tolist()


def test_daily_flags_and_overview_match(built):
    dsn, frame = built
    exp = expected_daily(frame)
    scan = query(
        dsn, f"select * from marts.fct_scanner_daily where trade_date = '{DAY.date()}'"
    ).set_index("symbol")
    scan = scan.loc[exp.index]
    assert np.allclose(scan["change_pct"], exp["change_pct"], atol=1e-9)
    assert (scan["is_unusual_volume"] == (exp["volume"] > 2 * exp["avg_volume"])).all()
    assert (scan["is_breakout_up"] == (exp["close"] > exp["prior_high"])).all()
    overview = query(
        dsn, f"select * from marts.fct_market_overview_daily where trade_date = '{DAY.date()}'"
    ).iloc[0]
    assert overview["total_scanned"] == len(exp) == 16
    assert overview["advancers"] == (exp["change_pct"] > 0).sum()
    assert overview["bullish"] + overview["bearish"] + overview["neutral"] == 16
    assert overview["avg_change_pct"] == pytest.approx(exp["change_pct"].mean())


def test_weekly_bars_are_built_from_daily_bars(built):
    dsn, frame = built
    aapl = frame[frame.symbol == "AAPL"].set_index("trade_date")
    weeks = (
        aapl.resample("W-FRI")
        .agg({"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"})
        .dropna()
    )
    ours = query(
        dsn, "select * from marts.fct_prices_weekly where symbol = 'AAPL' order by week_start"
    )
    assert len(ours) == len(weeks)
    for col in ("open", "high", "low", "close"):
        assert np.allclose(ours[col], weeks[col].to_numpy(), atol=1e-9), col
    assert (ours["volume"].to_numpy() == weeks["volume"].to_numpy()).all()
    weekly = query(
        dsn,
        "select count(*) as n, count(distinct period_start) as weeks from marts.fct_scanner_weekly",
    )
    assert weekly["n"][0] == 16 * len(weeks)
