"""Deterministic synthetic market data — SYNTHETIC, clearly labelled (source ``sample``).

The offline default for ``make up`` and the tests: daily bars from the model in
``providers.synthetic`` (anchored to realistic levels), intraday quotes from
``providers.intraday``, profiles for the sample universe.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd

from stockmind.providers.base import FetchResult, SymbolProfile, empty_prices
from stockmind.providers.intraday import quote_frame, synthetic_quote
from stockmind.providers.synthetic import EPOCH, symbol_params, synthetic_bars
from stockmind.universe import load_sample_profiles

SOURCE_LABEL = "sample"


class SampleProvider:
    """Synthetic bars for any symbol; profiles for the sample universe."""

    name = SOURCE_LABEL

    def fetch_daily(self, symbols: Sequence[str], start: dt.date, end: dt.date) -> FetchResult:
        if end < EPOCH:
            return FetchResult(empty_prices())
        frames = []
        for symbol in symbols:
            bars = synthetic_bars(symbol, end)
            frames.append(bars[bars["trade_date"] >= pd.Timestamp(start)])
        frame = pd.concat(frames, ignore_index=True) if frames else empty_prices()
        return FetchResult(frame)

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
