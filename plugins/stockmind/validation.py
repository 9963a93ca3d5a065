"""Row checks before load: every bad row is kept, with its reasons, never dropped.

Rules (a row may fail several; all its reasons are recorded, ``;``-separated):

* ``invalid_symbol`` — empty or not a ticker;  ``invalid_date`` — unparseable date;
* ``missing_<col>`` — open/high/low/close/adj_close/volume missing or NaN;
* ``non_positive_price`` — a price ≤ 0;  ``negative_volume``;  ``fractional_volume``;
* ``high_below_open_close`` / ``low_above_open_close`` / ``high_below_low`` — the bar's
  range does not bracket its open and close;
* ``future_date`` — dated after ``as_of`` (the exchange's today by default);
* ``duplicate_key`` — a later copy of a (symbol, trade_date) already in the batch with
  identical values (the first loads);  ``duplicate_key_conflict`` — copies that disagree:
  none of them can be trusted, so all are quarantined.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from stockmind.universe import SYMBOL_RE

PRICES = ["open", "high", "low", "close", "adj_close"]
VALUES = [*PRICES, "volume"]


@dataclass
class Checked:
    good: pd.DataFrame  # PRICE_COLUMNS, volume as int64
    rejected: pd.DataFrame  # PRICE_COLUMNS + reason

    @property
    def counts(self) -> dict[str, int]:
        return {"good": len(self.good), "rejected": len(self.rejected)}


def exchange_today(tz: str = "America/New_York") -> dt.date:
    return dt.datetime.now(ZoneInfo(tz)).date()


def _valid_symbols(symbols: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(normalised symbols, validity mask); the regex runs once per distinct symbol."""
    codes, uniques = pd.factorize(symbols, use_na_sentinel=True)
    cleaned = np.array([str(u).strip().upper() for u in uniques] + [None], dtype=object)
    ok = np.array([bool(SYMBOL_RE.match(u)) for u in cleaned[:-1]] + [False])
    return cleaned[codes], ok[codes]


def validate_prices(frame: pd.DataFrame, as_of: dt.date | None = None) -> Checked:
    """Split a bar frame into loadable rows and quarantined rows with reasons."""
    as_of = as_of or exchange_today()
    symbols, symbol_ok = _valid_symbols(frame["symbol"])
    dates = pd.to_datetime(frame["trade_date"], errors="coerce")
    values = {col: pd.to_numeric(frame[col], errors="coerce").to_numpy("float64") for col in VALUES}
    df = pd.DataFrame({"symbol": symbols, "trade_date": dates.to_numpy(), **values})

    checks: dict[str, np.ndarray] = {
        "invalid_symbol": ~symbol_ok,
        "invalid_date": dates.isna().to_numpy(),
    }
    for col in VALUES:
        checks[f"missing_{col}"] = np.isnan(values[col])
    with np.errstate(invalid="ignore"):
        o, h, lo, c, vol = (values[k] for k in ("open", "high", "low", "close", "volume"))
        checks["non_positive_price"] = np.logical_or.reduce([values[k] <= 0 for k in PRICES])
        checks["negative_volume"] = vol < 0
        checks["fractional_volume"] = np.mod(vol, 1) > 0
        checks["high_below_open_close"] = h < np.maximum(o, c)
        checks["low_above_open_close"] = lo > np.minimum(o, c)
        checks["high_below_low"] = h < lo
    checks["future_date"] = (dates > pd.Timestamp(as_of)).to_numpy()
    bad = np.logical_or.reduce(list(checks.values()))

    # duplicates only among rows that are otherwise fine
    key = ["symbol", "trade_date"]
    candidates = df[~bad]
    dup_any = candidates.duplicated(key, keep=False).to_numpy()
    if dup_any.any():
        dups = candidates[dup_any]
        groups = dups.groupby(key)[VALUES].nunique(dropna=False)
        conflicting = groups[(groups > 1).any(axis=1)].index
        in_conflict = dups.set_index(key).index.isin(conflicting)
        later_copy = dups.duplicated(key, keep="first").to_numpy() & ~in_conflict
        for name, mask in (("duplicate_key_conflict", in_conflict), ("duplicate_key", later_copy)):
            full = np.zeros(len(df), dtype=bool)
            full[dups.index[mask]] = True
            checks[name] = full
            bad |= full

    bad_idx = np.flatnonzero(bad)
    reasons = [";".join(name for name, mask in checks.items() if mask[i]) for i in bad_idx]
    rejected = df.iloc[bad_idx].assign(reason=reasons)
    good = df[~bad]
    good = good.assign(volume=good["volume"].astype("int64"))
    return Checked(good=good.reset_index(drop=True), rejected=rejected.reset_index(drop=True))
