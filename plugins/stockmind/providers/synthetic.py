"""The synthetic price model behind the ``sample`` source — SYNTHETIC data.

Each symbol gets a log-price random walk around a drift line (slowly mean-reverting),
fat-tailed jumps, overnight gaps, intraday ranges that bracket open and close, and volume
that rises with the size of the move, on the NYSE trading calendar (holidays are real
gaps in the dates).

Levels are anchored: a symbol's series is scaled so that its close on ``ANCHOR`` equals
its reference price — a realistic level for the sample universe
(``data/universe_sample.csv``), a hash-derived one in $15–$400 for any other symbol. The
mean reversion keeps the walk within a plausible band of that level for years either side
(the sample symbols' closes since 2021 stay within 0.4×–3× of their reference).

Determinism is by construction, not by caching: a symbol's series is a pure function of
its name, walked from a fixed epoch, and the random draws for day *n* do not depend on
how far the walk goes (nor does the constant scale), so any interval's bars are identical
whether fetched alone or as part of a longer range. That is what makes backfills and
re-runs reproducible. Daily bars (``providers.sample``) and intraday quotes
(``providers.intraday``) both build on it.
"""

from __future__ import annotations

import datetime as dt
import zlib
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from stockmind.providers.base import PRICE_COLUMNS, empty_prices
from stockmind.trading_calendar import trading_days
from stockmind.universe import sample_reference_prices

EPOCH = dt.date(2000, 1, 3)
ANCHOR = dt.date(2024, 1, 2)  # the close on this trading day is the reference price
MEAN_REVERSION = 0.005  # AR(1) pull towards the drift line: half-life ~140 trading days


@lru_cache(maxsize=8)
def _calendar(end: dt.date) -> tuple[dt.date, ...]:
    return tuple(trading_days(EPOCH, end))


def symbol_params(symbol: str) -> dict[str, float]:
    """A symbol's fixed traits (reference price, drift, volatility, volume, shares)."""
    rng = np.random.default_rng([zlib.crc32(symbol.encode()), 1])
    u = rng.random(6)
    hashed = float(np.exp(np.log(15) + u[0] * (np.log(400) - np.log(15))))
    return {
        "reference": sample_reference_prices().get(symbol, round(hashed, 2)),
        "drift": 0.00005 + 0.00025 * u[1],
        "vol": 0.011 + 0.02 * u[2],
        "volume0": float(np.exp(np.log(8e5) + u[3] * (np.log(6e7) - np.log(8e5)))),
        "gap_share": 0.2 + 0.3 * u[4],
        "shares": float(np.exp(np.log(2e8) + u[5] * (np.log(1.5e10) - np.log(2e8)))),
    }


def _walk(symbol: str, n: int, p: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n`` days' random draws and log returns (row i never depends on n)."""
    rng = np.random.default_rng([zlib.crc32(symbol.encode()), 2])
    z = rng.standard_normal((n, 6))
    jumps = np.where(np.abs(z[:, 5]) > 2.8, 3.0 * p["vol"] * np.sign(z[:, 5]), 0.0)
    # log price = drift line + a slowly mean-reverting AR(1) deviation, so decades of walk
    # stay in a plausible range; lfilter and cumsum are causal and sequential, so a
    # shorter walk is bit for bit the prefix of a longer one
    deviation = lfilter([1.0], [1.0, -(1 - MEAN_REVERSION)], p["vol"] * z[:, 0] + jumps)
    log_price = p["drift"] * np.arange(1, n + 1) + deviation
    return z, np.diff(log_price, prepend=0.0)


@lru_cache(maxsize=4096)
def _base_price(symbol: str) -> float:
    """The constant scale that puts the close on ``ANCHOR`` at the reference price."""
    p = symbol_params(symbol)
    n = len(_calendar(ANCHOR))
    _, ret = _walk(symbol, n, p)
    return p["reference"] / float(np.exp(np.cumsum(ret)[-1]))


def synthetic_bars(symbol: str, end: dt.date) -> pd.DataFrame:
    """The full series of ``symbol`` from the epoch through ``end``."""
    days = _calendar(end)
    n = len(days)
    if n == 0:
        return empty_prices()
    p = symbol_params(symbol)
    z, ret = _walk(symbol, n, p)
    base = _base_price(symbol)
    gap = p["gap_share"] * ret + 0.002 * z[:, 1]
    intraday = ret - gap
    close = base * np.exp(np.cumsum(ret))
    prev_close = np.concatenate([[base], close[:-1]])
    open_ = prev_close * np.exp(gap)
    close = open_ * np.exp(intraday)
    high = np.maximum(open_, close) * np.exp(0.5 * p["vol"] * np.abs(z[:, 2]))
    low = np.minimum(open_, close) * np.exp(-0.5 * p["vol"] * np.abs(z[:, 3]))
    volume = np.round(p["volume0"] * np.exp(0.35 * z[:, 4] + 8.0 * np.abs(ret))).astype("int64")
    open_, close = np.round(open_, 2), np.round(close, 2)
    high = np.maximum(np.round(high, 2), np.maximum(open_, close))
    low = np.minimum(np.round(low, 2), np.minimum(open_, close))
    return pd.DataFrame(
        {
            "symbol": symbol,
            "trade_date": pd.to_datetime(list(days)),
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "adj_close": close,  # no corporate actions are simulated
            "volume": volume,
        },
        columns=PRICE_COLUMNS,
    )
