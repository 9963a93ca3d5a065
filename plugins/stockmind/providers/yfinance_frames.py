"""Shaping ``yf.download`` output: its (Price, Ticker) column frame → our rows.

Daily bars: one row per symbol and trade date (``frame_from_download``). Latest quotes
from ``period="1d", interval="1m"``: each symbol's last minute bar at or before the
poll's minute is its price; the session's open/high/low and cumulative volume come from
the bars so far. That call has no previous close, so ``prev_close`` stays empty and the
poll takes the warehouse's last daily close (``quotes_from_download``).

Pure functions of a frame, shared by the provider and its boundary tests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd

from stockmind.providers.base import PRICE_COLUMNS, QUOTE_COLUMNS, empty_prices, empty_quotes

YF_COLUMNS = {
    "Open": "open",
    "High": "high",
    "Low": "low",
    "Close": "close",
    "Adj Close": "adj_close",
    "Volume": "volume",
}


def stack_tickers(data: pd.DataFrame, symbols: Sequence[str], index: str) -> pd.DataFrame:
    """``yf.download``'s (Price, Ticker) columns → one row per time and ``symbol``; the
    time column is named ``index``."""
    if isinstance(data.columns, pd.MultiIndex):
        names = list(data.columns.names)
        ticker_level = names.index("Ticker") if "Ticker" in names else 1
        long = data.stack(level=ticker_level, future_stack=True)
        long.index = long.index.set_names([index, "symbol"])
        return long.reset_index()
    long = data.reset_index().assign(symbol=symbols[0])  # one ticker, flat columns
    return long.rename(columns={long.columns[0]: index})


def frame_from_download(data: pd.DataFrame, symbols: Sequence[str], tz: str) -> pd.DataFrame:
    """Turn ``yf.download`` output into PRICE_COLUMNS rows (one per symbol and day)."""
    if data is None or data.empty:
        return empty_prices()
    long = stack_tickers(data, symbols, "Date").rename(columns=YF_COLUMNS)
    dates = pd.to_datetime(long["Date"])
    if dates.dt.tz is not None:
        dates = dates.dt.tz_convert(tz).dt.tz_localize(None)
    long["trade_date"] = dates.dt.normalize()
    long["symbol"] = long["symbol"].astype(str).str.upper()
    if "adj_close" not in long:
        raise ValueError("yfinance returned no 'Adj Close': download must use auto_adjust=False")
    values = ["open", "high", "low", "close", "adj_close", "volume"]
    long = long[long[values].notna().any(axis=1)]  # alignment padding, not data
    return long[PRICE_COLUMNS].reset_index(drop=True)


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
