"""Latest quotes from ``yf.download(period="1d", interval="1m")`` (today's minute bars).

One batched call per symbol batch. Each symbol's quote is its last minute bar at or
before the poll's minute: the price is that bar's close, the session's open/high/low and
cumulative volume come from the bars so far. yfinance has no previous close in this
call, so ``prev_close`` stays empty and the poll takes the warehouse's last daily close.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd

from stockmind.providers.base import QUOTE_COLUMNS, empty_quotes
from stockmind.providers.yfinance import stack_tickers


def quotes_from_download(
    data: pd.DataFrame, symbols: Sequence[str], at: dt.datetime
) -> pd.DataFrame:
    """The (Price, Ticker) minute-bar frame → one ``QUOTE_COLUMNS`` row per symbol."""
    if data is None or data.empty:
        return empty_quotes()
    long = stack_tickers(data, symbols, "ts")
    long = long.rename(columns=str.lower)
    ts = pd.to_datetime(long["ts"])
    long["ts"] = ts.dt.tz_localize("UTC") if ts.dt.tz is None else ts.dt.tz_convert("UTC")
    long["symbol"] = long["symbol"].astype(str).str.upper()
    long = long[long["close"].notna() & (long["ts"] <= pd.Timestamp(at).tz_convert("UTC"))]
    if long.empty:
        return empty_quotes()
    long = long.sort_values(["symbol", "ts"])
    grouped = long.groupby("symbol", sort=True)
    quotes = pd.DataFrame(
        {
            "ts": grouped["ts"].last(),
            "price": grouped["close"].last(),
            "day_open": grouped["open"].first(),
            "day_high": grouped["high"].max(),
            "day_low": grouped["low"].min(),
            "volume": grouped["volume"].sum(min_count=1),
            "prev_close": float("nan"),
        }
    ).reset_index()
    return quotes[QUOTE_COLUMNS]
