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

from stockmind.providers.base import PRICE_COLUMNS
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


def validate_prices(frame: pd.DataFrame, as_of: dt.date | None = None) -> Checked:
    """Split a bar frame into loadable rows and quarantined rows with reasons."""
    df = frame[PRICE_COLUMNS].reset_index(drop=True).copy()
    df["trade_date"] = pd.to_datetime(df["trade_date"], errors="coerce")
    for col in VALUES:
        df[col] = pd.to_numeric(df[col], errors="coerce").astype("float64")
    as_of = as_of or exchange_today()
    sym = df["symbol"].astype("string").str.strip().str.upper()
    df["symbol"] = sym.astype(object).where(sym.notna(), None)

    checks: dict[str, np.ndarray] = {
        "invalid_symbol": ~sym.fillna("").str.match(SYMBOL_RE.pattern).to_numpy(bool),
        "invalid_date": df["trade_date"].isna().to_numpy(),
    }
    for col in VALUES:
        checks[f"missing_{col}"] = df[col].isna().to_numpy()
    with np.errstate(invalid="ignore"):
        prices = df[PRICES].to_numpy()
        checks["non_positive_price"] = (prices <= 0).any(axis=1)
        checks["negative_volume"] = (df["volume"] < 0).to_numpy()
        checks["fractional_volume"] = (df["volume"] % 1 != 0).to_numpy() & df["volume"].notna()
        o, h, lo, c = (df[k].to_numpy() for k in ("open", "high", "low", "close"))
        checks["high_below_open_close"] = h < np.maximum(o, c)
        checks["low_above_open_close"] = lo > np.minimum(o, c)
        checks["high_below_low"] = h < lo
    checks["future_date"] = (df["trade_date"] > pd.Timestamp(as_of)).to_numpy()
    bad = np.logical_or.reduce(list(checks.values()))

    # duplicates only among rows that are otherwise fine
    candidates = df[~bad]
    key = ["symbol", "trade_date"]
    dup_any = candidates.duplicated(key, keep=False)
    if dup_any.any():
        groups = candidates[dup_any].groupby(key)[VALUES].nunique(dropna=False)
        conflicting = groups[(groups > 1).any(axis=1)].index
        in_conflict = candidates.set_index(key).index.isin(conflicting)
        later_copy = candidates.duplicated(key, keep="first").to_numpy() & ~in_conflict
        for name, mask in (("duplicate_key_conflict", in_conflict), ("duplicate_key", later_copy)):
            full = np.zeros(len(df), dtype=bool)
            full[candidates.index[mask]] = True
            checks[name] = full
            bad |= full

    reasons = pd.Series("", index=df.index, dtype=object)
    for name, mask in checks.items():
        if mask.any():
            reasons[mask] = reasons[mask] + ";" + name
    rejected = df[bad].copy()
    rejected["reason"] = reasons[bad].str.lstrip(";")
    good = df[~bad].copy()
    good["volume"] = good["volume"].astype("int64")
    return Checked(good=good.reset_index(drop=True), rejected=rejected.reset_index(drop=True))
