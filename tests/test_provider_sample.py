"""The sample provider: deterministic, realistic bars on the trading calendar, anchored to
realistic price levels — and any interval at the cost of that interval (issue 15)."""

import datetime as dt

import numpy as np
import pandas as pd
from stockmind.providers import synthetic
from stockmind.providers.sample import SampleProvider
from stockmind.providers.synthetic import ANCHOR, EPOCH, PHI, day_index, symbol_params
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


def test_every_bar_is_the_same_whatever_range_is_asked():
    """Prefix stability, bit for bit: a day's bar equals that day in a full-history call,
    for ranges that start and end on every level of the block hierarchy (16, 256, 4,096
    trading days) and before the epoch."""
    symbols, end = ["AAPL", "ZZZZ"], dt.date(2026, 12, 31)
    days = trading_days(EPOCH, end)
    full = SampleProvider().fetch_daily(symbols, EPOCH, end).frame
    assert len(full) == 2 * len(days) and full["trade_date"].iloc[0] == pd.Timestamp(EPOCH)
    ranges = [(dt.date(1999, 6, 1), days[20]), (days[4095], days[4096]), (days[4096], days[4096])]
    ranges += [(days[i], days[j]) for i, j in ((15, 16), (255, 300), (4000, 4700), (6143, 6200))]
    ranges += [(days[-1], end), (dt.date(2024, 12, 20), dt.date(2025, 1, 3)), (ANCHOR, ANCHOR)]
    for start, stop in ranges:
        part = SampleProvider().fetch_daily(symbols, start, stop).frame
        inside = full[
            (full.trade_date >= pd.Timestamp(start)) & (full.trade_date <= pd.Timestamp(stop))
        ]
        assert len(part) > 0, (start, stop)
        pd.testing.assert_frame_equal(part, inside.reset_index(drop=True), check_exact=True)


def test_day_index_is_the_position_in_the_trading_calendar():
    days = trading_days(EPOCH, dt.date(2031, 12, 31))
    picked = [
        *range(0, len(days), 97),
        *(i for i, d in enumerate(days) if d.month == 1 and d.day < 6),
    ]
    for i in picked:
        assert day_index(days[i]) == i, days[i]


def test_hierarchy_innovations_are_independent_standard_normals():
    """The block-sum hierarchy must give the same walk as iid daily draws: unit variance
    at every position of a block, no correlation across block boundaries, the AR(1) state's
    variance where theory puts it."""
    keys = np.array([synthetic._key(f"K{i}") for i in range(1500)], dtype=np.uint64)
    first, last = 3840, 4400  # crosses 16-, 256- and 4,096-day boundaries
    g = synthetic._deviation(keys, first - 1, last)
    eps = g[:, 1:] - PHI * g[:, :-1]
    assert abs(eps.mean()) < 0.01 and abs(eps.var() - 1) < 0.02
    n = np.arange(first, last + 1)
    for position in range(16):
        assert abs(eps[:, n % 16 == position].var() - 1) < 0.05, position
    lag = np.corrcoef(eps[:, :-1].ravel(), eps[:, 1:].ravel())[0, 1]
    assert abs(lag) < 0.02
    edge = 4096 - first  # the first day of the second top block, and the one before
    assert abs(np.corrcoef(eps[:, edge - 1], eps[:, edge])[0, 1]) < 0.12
    theory = (1 - PHI ** (2 * (last + 1))) / (1 - PHI**2)
    assert abs(g[:, -1].var() / theory - 1) < 0.12
    assert abs(((eps - eps.mean()) ** 4).mean() / eps.var() ** 2 - 3) < 0.1  # Gaussian tails


def test_returns_keep_the_models_character():
    """Daily moves of about each symbol's vol, fatter tails than a normal (the jumps),
    overnight gaps — the character of the model before issue 15."""
    references = sample_reference_prices()
    frame = (
        SampleProvider()
        .fetch_daily(list(references), dt.date(2021, 1, 1), dt.date(2026, 11, 20))
        .frame
    )
    ret = np.log(frame["close"]).groupby(frame["symbol"]).diff()
    z = (ret / frame["symbol"].map(lambda s: symbol_params(s)["vol"])).dropna()
    assert 0.95 < z.std() < 1.12
    assert z.kurt() > 0.15 and (z.abs() > 4).mean() > 2e-4  # a normal: 0 and 6e-5
