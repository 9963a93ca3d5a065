"""Deterministic synthetic market data — SYNTHETIC, clearly labelled (source ``sample``).

The offline default for ``make up`` and the tests: daily bars from the model in
``providers.synthetic`` (anchored to realistic levels), intraday quotes from
``providers.intraday``, profiles for the sample universe.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from stockmind.providers.base import FetchResult, SymbolProfile
from stockmind.providers.intraday import quote_frame, synthetic_quote
from stockmind.providers.synthetic import sample_bars, symbol_params
from stockmind.universe import load_sample_profiles

SOURCE_LABEL = "sample"


class SampleProvider:
    """Synthetic bars for any symbol; profiles for the sample universe."""

    name = SOURCE_LABEL

    def fetch_daily(self, symbols: Sequence[str], start: dt.date, end: dt.date) -> FetchResult:
        """Bars for every symbol and trading day asked for, at the cost of that interval
        (``providers.synthetic`` reaches any day without walking from the epoch)."""
        return FetchResult(sample_bars(list(symbols), start, end))

    def fetch_quotes(self, symbols: Sequence[str], at: dt.datetime) -> FetchResult:
        """A synthetic intraday quote per symbol (see ``providers.intraday``)."""
        rows = [q for q in (synthetic_quote(s, at) for s in symbols) if q is not None]
        return FetchResult(quote_frame(rows))

    def fetch_profiles(self, symbols: Sequence[str]) -> list[SymbolProfile]:
        known = load_sample_profiles()
        profiles = []
        for symbol in symbols:
            base = known.get(symbol, {"name": f"{symbol} (synthetic)"})
            params = symbol_params(symbol)
            cap = params["shares"] * params["reference"]
            profiles.append(SymbolProfile(symbol=symbol, market_cap=int(cap), **base))
        return profiles
