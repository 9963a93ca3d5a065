"""The provider interface: every market-data source returns the same shapes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import pandas as pd

#: Columns of a daily-bar frame, in load order.  ``trade_date`` is datetime64 at midnight
#: (NaT where a source's date could not be parsed — validation quarantines those rows).
PRICE_COLUMNS = ["symbol", "trade_date", "open", "high", "low", "close", "adj_close", "volume"]

#: Columns of a quote frame (one row per symbol): the latest minute ``ts`` (UTC), the last
#: ``price``, the session so far (open, high, low, cumulative volume) and, when the source
#: knows it, the previous session's close (else the warehouse's last daily close is used).
QUOTE_COLUMNS = ["symbol", "ts", "price", "day_open", "day_high", "day_low", "volume", "prev_close"]


@dataclass
class FetchResult:
    """Bars for the symbols that returned data, and why the others did not."""

    frame: pd.DataFrame
    errors: dict[str, str] = field(default_factory=dict)
    #: symbols whose error may pass (rate limits): the caller should retry later
    transient: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class SymbolProfile:
    symbol: str
    name: str | None = None
    sector: str | None = None
    industry: str | None = None
    exchange: str | None = None
    currency: str | None = None
    market_cap: int | None = None


class PriceProvider(Protocol):
    """A source of daily bars and company profiles."""

    name: str

    def fetch_daily(self, symbols: Sequence[str], start: dt.date, end: dt.date) -> FetchResult:
        """Daily bars for ``symbols`` with ``start <= trade_date <= end`` (inclusive)."""
        ...

    def fetch_profiles(self, symbols: Sequence[str]) -> list[SymbolProfile]:
        """What the source knows about each symbol (missing fields stay None)."""
        ...

    def fetch_quotes(self, symbols: Sequence[str], at: dt.datetime) -> FetchResult:
        """The latest quote at or before ``at`` per symbol (``QUOTE_COLUMNS``)."""
        ...


def empty_prices() -> pd.DataFrame:
    frame = pd.DataFrame({col: pd.Series(dtype="float64") for col in PRICE_COLUMNS})
    frame["symbol"] = frame["symbol"].astype("object")
    frame["trade_date"] = pd.Series(dtype="datetime64[ns]")
    return frame


def empty_quotes() -> pd.DataFrame:
    frame = pd.DataFrame({col: pd.Series(dtype="float64") for col in QUOTE_COLUMNS})
    frame["symbol"] = frame["symbol"].astype("object")
    frame["ts"] = pd.Series(dtype="datetime64[ns, UTC]")
    return frame
