"""Marts → per-symbol sequences for the forecaster, with no look-ahead by construction.

``build_dataset(bars, config, as_of)`` first drops every bar after ``as_of`` — nothing
later can reach a feature, a target, a split boundary or the scaler — then:

* features and forward-return targets (``features``); a row is labelled when all its
  horizons' closes are known (t + h ≤ the symbol's last bar ≤ as_of);
* chronological splits over the calendar of labelled dates: train, then ``purge_days``
  left out, validation, ``purge_days`` left out, then ``test_windows`` consecutive test
  windows of ``test_days`` each (``test_w1``, ``test_w2``, …; ``test`` is all of them),
  evaluated walk-forward in time order; no target of one window reaches into the next
  split;
* a scaler fit on the training rows only (mean and standard deviation per feature),
  applied everywhere, clipped to ±``clip_sigma``;
* windows of ``sequence_length`` consecutive rows of one symbol with every feature
  present, ending on a date of the split.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from stockmind.db import connect

from stockmind_ml.config import ForecastConfig
from stockmind_ml.features import FEATURES, INPUT_COLUMNS, add_features, add_targets

SPLITS = ("train", "validation", "test")  # plus test_w1 … test_w{n}


def load_bars(
    dsn: str | None,
    as_of: dt.date,
    symbols: list[str] | None = None,
    since: dt.date | None = None,
) -> pd.DataFrame:
    """Daily bars and indicators up to ``as_of`` (from ``since``, when given) from
    ``marts.fct_indicators_daily``."""
    query = (
        f"select {', '.join(INPUT_COLUMNS)} from marts.fct_indicators_daily "
        "where trade_date <= %(as_of)s "
        "and (%(since)s::date is null or trade_date >= %(since)s) "
        "and (%(symbols)s::text[] is null or symbol = any(%(symbols)s)) "
        "order by symbol, trade_date"
    )
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(query, {"as_of": as_of, "symbols": symbols, "since": since})
            rows = cur.fetchall()
    finally:
        conn.close()
    frame = pd.DataFrame(rows, columns=INPUT_COLUMNS)
    numeric = [c for c in INPUT_COLUMNS if c not in ("symbol", "trade_date")]
    frame[numeric] = frame[numeric].astype("float64")
    frame["trade_date"] = pd.to_datetime(frame["trade_date"])
    return frame


@dataclass(frozen=True)
class Scaler:
    """Per-feature standardisation fit on the training rows only."""

    mean: np.ndarray
    std: np.ndarray
    clip: float

    @classmethod
    def from_dict(cls, data: dict) -> Scaler:
        if data["features"] != list(FEATURES):
            raise ValueError("the scaler was fit on other features than this code computes")
        return cls(np.asarray(data["mean"]), np.asarray(data["std"]), float(data["clip"]))

    @classmethod
    def fit(cls, values: np.ndarray, clip: float) -> Scaler:
        mean = np.nanmean(values, axis=0)
        std = np.nanstd(values, axis=0)
        return cls(mean, np.where(std > 0, std, 1.0), clip)

    def transform(self, values: np.ndarray) -> np.ndarray:
        scaled = (values - self.mean) / self.std
        return np.clip(scaled, -self.clip, self.clip).astype("float32")

    def to_dict(self) -> dict:
        return {
            "features": list(FEATURES),
            "mean": self.mean.tolist(),
            "std": self.std.tolist(),
            "clip": self.clip,
        }


@dataclass
class Windows:
    """Model inputs of one split: ``x`` (n, sequence, features), ``y`` (n, horizons),
    and which symbol and date each sample is (``keys``)."""

    x: np.ndarray
    y: np.ndarray
    keys: pd.DataFrame


@dataclass
class Dataset:
    config: ForecastConfig
    as_of: dt.date
    frame: pd.DataFrame  # features (scaled) and targets, sorted by symbol and date
    bounds: dict[str, tuple[pd.Timestamp, pd.Timestamp]]  # split → (first, last date)
    scaler: Scaler

    @property
    def target_columns(self) -> list[str]:
        return [f"target_h{h}" for h in self.config.horizons]

    def windows(self, split: str) -> Windows:
        first, last = self.bounds[split]
        dates = self.frame["trade_date"]
        labelled = self.frame[self.target_columns].notna().all(axis=1)
        return self._windows((dates >= first) & (dates <= last) & labelled)

    def latest(self) -> Windows:
        """One window per symbol ending on its last bar (the inputs of a prediction made
        at ``as_of``); symbols without a full window are left out. ``y`` is empty."""
        last = self.frame.groupby("symbol")["trade_date"].transform("max")
        return self._windows(self.frame["trade_date"] == last, labels=False)

    def _windows(self, ends: pd.Series, labels: bool = True) -> Windows:
        columns = self.target_columns if labels else []
        return windows_from(self.frame, self.config.sequence_length, ends, columns)


def windows_from(frame: pd.DataFrame, seq: int, ends: pd.Series, targets: list[str]) -> Windows:
    """Windows of ``seq`` consecutive rows of one symbol, every feature present, ending on
    the rows where ``ends`` is true (``frame`` sorted by symbol and date, features scaled)."""
    values = frame[list(FEATURES)].to_numpy("float32")
    present = ~np.isnan(values).any(axis=1)
    symbol = frame["symbol"].to_numpy()
    run = np.zeros(len(values), dtype=np.int64)  # whole rows in a row, per symbol
    for i in range(len(values)):
        same = i > 0 and symbol[i] == symbol[i - 1]
        run[i] = (run[i - 1] + 1 if same else 1) if present[i] else 0
    idx = np.flatnonzero(ends.to_numpy() & (run >= seq))
    if len(idx):
        x = values[idx[:, None] + np.arange(-seq + 1, 1)]
    else:
        x = np.empty((0, seq, values.shape[1]), "float32")
    y = frame[targets].to_numpy("float32")[idx]
    keys = frame.loc[idx, ["symbol", "trade_date"]].reset_index(drop=True)
    return Windows(x, y, keys)


def scale_features(frame: pd.DataFrame, scaler: Scaler) -> pd.DataFrame:
    """``frame`` with its FEATURES standardised by ``scaler`` (NaN stays NaN)."""
    scaled = frame.copy()
    raw = frame[list(FEATURES)].to_numpy("float64")
    scaled[list(FEATURES)] = np.where(np.isnan(raw), np.nan, scaler.transform(raw))
    return scaled


def latest_windows(bars: pd.DataFrame, sequence_length: int, scaler: Scaler) -> Windows:
    """The prediction inputs from bars: one window per symbol ending on its last bar."""
    known = bars.copy()
    known["trade_date"] = pd.to_datetime(known["trade_date"])
    frame = scale_features(add_features(known), scaler)
    last = frame.groupby("symbol")["trade_date"].transform("max")
    return windows_from(frame, sequence_length, frame["trade_date"] == last, [])


def split_bounds(
    dates: pd.Series, config: ForecastConfig
) -> dict[str, tuple[pd.Timestamp, pd.Timestamp]]:
    """Train / validation / test date ranges over the sorted labelled dates, each window
    separated from the next by ``purge_days`` dates that belong to none."""
    calendar = np.sort(dates.unique())
    test_first = len(calendar) - config.test_days * config.test_windows
    val_last = test_first - config.purge_days - 1
    val_first = val_last - config.validation_days + 1
    train_last = val_first - config.purge_days - 1
    if train_last < config.sequence_length:
        needed = (
            config.sequence_length + 2 * config.purge_days + config.validation_days
            + config.test_days * config.test_windows + max(config.horizons)
        )  # fmt: skip
        raise ValueError(
            f"not enough history: {len(calendar)} labelled dates; this configuration needs "
            f"more than {needed} trading days up to the as-of date"
        )
    as_ts = [pd.Timestamp(d) for d in calendar]
    bounds = {
        "train": (as_ts[0], as_ts[train_last]),
        "validation": (as_ts[val_first], as_ts[val_last]),
        "test": (as_ts[test_first], as_ts[-1]),
    }
    for k in range(config.test_windows):
        first = test_first + k * config.test_days
        bounds[f"test_w{k + 1}"] = (as_ts[first], as_ts[first + config.test_days - 1])
    return bounds


def build_dataset(bars: pd.DataFrame, config: ForecastConfig, as_of: dt.date) -> Dataset:
    """The dataset of a model trained at ``as_of`` (see the module docstring)."""
    known = bars[pd.to_datetime(bars["trade_date"]) <= pd.Timestamp(as_of)].copy()
    known["trade_date"] = pd.to_datetime(known["trade_date"])
    frame = add_targets(add_features(known), config.horizons)
    labelled = frame[[f"target_h{h}" for h in config.horizons]].notna().all(axis=1)
    bounds = split_bounds(frame.loc[labelled, "trade_date"], config)
    first, last = bounds["train"]
    in_train = frame["trade_date"].between(first, last)
    scaler = Scaler.fit(frame.loc[in_train, list(FEATURES)].to_numpy("float64"), config.clip_sigma)
    return Dataset(config, as_of, scale_features(frame, scaler), bounds, scaler)
