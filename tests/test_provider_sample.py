"""The sample provider: deterministic, realistic bars on the trading calendar, anchored to
realistic price levels."""

import datetime as dt

import pandas as pd
from stockmind.providers.sample import SampleProvider
from stockmind.providers.synthetic import ANCHOR, EPOCH, symbol_params
from stockmind.trading_calendar import trading_days
from stockmind.universe import sample_reference_prices
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


def test_each_series_closes_at_its_reference_price_on_the_anchor_date():
    references = sample_reference_prices()
    assert len(references) == 16 and references["KO"] == 59.0 and references["JNJ"] == 156.0
    frame = SampleProvider().fetch_daily([*references, "ZZZZ", "QQQX"], ANCHOR, ANCHOR).frame
    closes = dict(zip(frame["symbol"], frame["close"], strict=True))
    for symbol, reference in references.items():
        assert closes[symbol] == reference, symbol
    for symbol in ("ZZZZ", "QQQX"):  # outside the sample universe: a hash-derived level
        assert closes[symbol] == symbol_params(symbol)["reference"]
        assert 15 <= closes[symbol] <= 400


def test_levels_stay_plausible_for_years_around_the_anchor():
    references = sample_reference_prices()
    end = dt.date(2026, 11, 20)
    frame = SampleProvider().fetch_daily(list(references), dt.date(2021, 1, 1), end).frame
    ratio = frame["close"] / frame["symbol"].map(references)
    by_symbol = ratio.groupby(frame["symbol"]).agg(["min", "max"])
    assert len(by_symbol) == 16
    assert (by_symbol["min"] >= 0.25).all() and (by_symbol["max"] <= 4).all(), by_symbol
    last = frame[frame["trade_date"] == pd.Timestamp(end)].set_index("symbol")["close"]
    assert 30 <= last["KO"] <= 120 and 78 <= last["JNJ"] <= 312  # not 579 and 1,716
    early = SampleProvider().fetch_daily(list(references), EPOCH, dt.date(2000, 12, 31)).frame
    assert early["low"].min() > 1  # 24 years of walk back from the anchor stay positive


def test_bars_before_and_across_the_anchor_are_prefix_stable():
    provider = SampleProvider()
    old = provider.fetch_daily(["KO", "ZZZZ"], dt.date(2005, 3, 1), dt.date(2005, 3, 31)).frame
    full = provider.fetch_daily(["KO", "ZZZZ"], dt.date(2005, 3, 1), dt.date(2026, 6, 30)).frame
    sliced = full[full.trade_date <= "2005-03-31"]
    pd.testing.assert_frame_equal(old.reset_index(drop=True), sliced.reset_index(drop=True))
