"""The sample provider: deterministic, realistic bars on the trading calendar."""

import datetime as dt

import pandas as pd
from stockmind.providers.sample import SampleProvider
from stockmind.trading_calendar import trading_days
from stockmind.validation import validate_prices


def test_interval_bars_equal_the_same_days_of_a_longer_fetch():
    provider = SampleProvider()
    short = provider.fetch_daily(["AAPL", "XOM"], dt.date(2024, 3, 1), dt.date(2024, 3, 8)).frame
    long = provider.fetch_daily(["AAPL", "XOM"], dt.date(2023, 1, 1), dt.date(2025, 6, 30)).frame
    sliced = long[(long.trade_date >= "2024-03-01") & (long.trade_date <= "2024-03-08")]
    pd.testing.assert_frame_equal(short.reset_index(drop=True), sliced.reset_index(drop=True))
    assert len(short) == 2 * 6  # Fri 1st, Mon 4th .. Fri 8th


def test_bars_are_valid_and_follow_the_nyse_calendar():
    frame = SampleProvider().fetch_daily(["NVDA"], dt.date(2024, 1, 1), dt.date(2024, 12, 31)).frame
    days = [d.date() for d in frame["trade_date"]]
    assert days == trading_days(dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    assert len(days) == 252  # NYSE had 252 full trading days in 2024
    for holiday in (dt.date(2024, 3, 29), dt.date(2024, 7, 4), dt.date(2024, 12, 25)):
        assert holiday not in days
    checked = validate_prices(frame, as_of=dt.date(2025, 1, 1))
    assert checked.counts["rejected"] == 0
    assert (frame["high"] >= frame[["open", "close"]].max(axis=1)).all()
    assert (frame["volume"] > 0).all()
    gaps = (frame["open"] / frame["close"].shift(1) - 1).abs().dropna()
    assert gaps.max() > 0.005  # overnight gaps exist


def test_profiles_cover_the_sample_universe():
    profiles = {p.symbol: p for p in SampleProvider().fetch_profiles(["AAPL", "ZZZZ"])}
    assert profiles["AAPL"].name == "Apple Inc." and profiles["AAPL"].sector
    assert profiles["ZZZZ"].name == "ZZZZ (synthetic)"
    assert profiles["AAPL"].market_cap > 0
