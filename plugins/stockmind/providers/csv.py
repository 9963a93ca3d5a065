"""OHLCV from a CSV file or a folder of them (source ``csv``).

Column names are matched case-insensitively against common spellings (``Date``,
``Adj Close``, ``Name``/``Ticker``…) or given explicitly.  Files without a symbol column
take the symbol from the file name (``AAPL.csv``, ``AAPL_data.csv``).  Sources without an
adjusted close (already split-adjusted data such as the shared five-year set) use the
close.  Nothing is cleaned here: bad rows reach validation and are quarantined there.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from stockmind.providers.base import PRICE_COLUMNS, FetchResult, SymbolProfile, empty_prices

ALIASES: dict[str, tuple[str, ...]] = {
    "symbol": ("symbol", "name", "ticker", "code"),
    "trade_date": ("trade_date", "date", "datetime", "timestamp"),
    "open": ("open",),
    "high": ("high",),
    "low": ("low",),
    "close": ("close",),
    "adj_close": ("adj_close", "adj close", "adjclose", "adjusted_close"),
    "volume": ("volume", "vol"),
}
PATTERNS = ("*.csv", "*.csv.gz", "*.txt")


def _resolve_columns(header: Sequence[str], mapping: Mapping[str, str]) -> dict[str, str]:
    lower = {col.strip().lower(): col for col in header}
    resolved = {}
    unknown = set(mapping) - set(ALIASES)
    if unknown:
        raise ValueError(f"unknown mapping targets {sorted(unknown)}; use {sorted(ALIASES)}")
    for target, aliases in ALIASES.items():
        if target in mapping:
            if mapping[target] not in header:
                raise ValueError(f"column {mapping[target]!r} (for {target}) not in {header}")
            resolved[target] = mapping[target]
            continue
        found = next((lower[a] for a in aliases if a in lower), None)
        if found is not None:
            resolved[target] = found
    missing = {"trade_date", "open", "high", "low", "close", "volume"} - set(resolved)
    if missing:
        raise ValueError(f"CSV lacks columns for {sorted(missing)} (header: {list(header)})")
    return resolved


def symbol_from_filename(path: Path) -> str:
    stem = path.name.split(".")[0]
    return re.split(r"[_\s]", stem)[0].upper()


def read_ohlcv(path: Path, mapping: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One file, normalised to PRICE_COLUMNS; unparseable dates become NaT (not dropped)."""
    raw = pd.read_csv(path, na_values=["", "NaN", "nan", "null"], keep_default_na=False)
    cols = _resolve_columns(list(raw.columns), mapping or {})
    out = pd.DataFrame(index=raw.index)
    if "symbol" in cols:
        out["symbol"] = raw[cols["symbol"]].astype("string").str.strip().str.upper().astype(object)
    else:
        out["symbol"] = symbol_from_filename(path)
    out["trade_date"] = pd.to_datetime(
        raw[cols["trade_date"]], errors="coerce", format="mixed"
    ).dt.normalize()
    for col in ("open", "high", "low", "close", "volume"):
        out[col] = pd.to_numeric(raw[cols[col]], errors="coerce")
    adj = cols.get("adj_close")
    out["adj_close"] = pd.to_numeric(raw[adj], errors="coerce") if adj else out["close"]
    return out[PRICE_COLUMNS]


class CsvProvider:
    """Reads once per instance; filters by symbol and inclusive date range."""

    name = "csv"

    def __init__(self, path: str | Path, mapping: Mapping[str, str] | None = None):
        self.path = Path(path)
        self.mapping = dict(mapping or {})
        self._frame: pd.DataFrame | None = None

    def files(self) -> list[Path]:
        if self.path.is_file():
            return [self.path]
        if self.path.is_dir():
            return sorted({p for pat in PATTERNS for p in self.path.glob(pat)})
        raise FileNotFoundError(f"csv source: {self.path} does not exist")

    def frame(self) -> pd.DataFrame:
        if self._frame is None:
            parts = [read_ohlcv(p, self.mapping) for p in self.files()]
            self._frame = pd.concat(parts, ignore_index=True) if parts else empty_prices()
        return self._frame

    def symbols(self) -> list[str]:
        return sorted(self.frame()["symbol"].dropna().unique())

    def fetch_daily(
        self, symbols: Sequence[str] | None, start: dt.date | None, end: dt.date | None
    ) -> FetchResult:
        df = self.frame()
        mask = pd.Series(True, index=df.index)
        if symbols is not None:
            mask &= df["symbol"].isin(set(symbols))
        dates = df["trade_date"]
        in_range = pd.Series(True, index=df.index)
        if start is not None:
            in_range &= dates >= pd.Timestamp(start)
        if end is not None:
            in_range &= dates <= pd.Timestamp(end)
        undated = dates.isna()  # rows with a bad date go to every fetch, to be quarantined
        frame = df[mask & (in_range | undated)].reset_index(drop=True)
        found = set(df.loc[mask, "symbol"]) if symbols is not None else set()
        errors = {s: f"not found in {self.path}" for s in symbols or () if s not in found}
        return FetchResult(frame, errors)

    def fetch_quotes(self, symbols: Sequence[str], at: dt.datetime) -> FetchResult:
        """Files of daily bars hold no intraday quotes: every symbol is an error."""
        from stockmind.providers.base import empty_quotes

        return FetchResult(
            empty_quotes(), {s: "the csv source has no intraday quotes" for s in symbols}
        )

    def fetch_profiles(self, symbols: Sequence[str]) -> list[SymbolProfile]:
        return [SymbolProfile(symbol=s) for s in symbols]
