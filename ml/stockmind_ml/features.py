"""Scale-free, causal features and forward-return targets from daily bars and indicators.

Never a raw price level: a model trained across symbols must not learn that one stock
costs 400 and another 40. Every feature is a return, a ratio of two prices, a bounded
oscillator or a volume change, and every one at day t uses bars up to t only (shifts
backwards, trailing windows) — ``tests/test_ml_dataset.py`` changes every later bar and
checks. Targets are forward log returns, ``log(close[t+h] / close[t])``, NaN where t+h is
beyond the data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: the mart columns the features are made of (marts.fct_indicators_daily)
INPUT_COLUMNS = [
    "symbol", "trade_date", "open", "high", "low", "close", "volume",
    "sma_20", "sma_50", "sma_200", "ema_12", "ema_26", "rsi_14", "macd_hist",
    "bb_upper", "bb_middle", "bb_lower", "atr_14",
]  # fmt: skip

#: feature name → what it measures (documented in the MLflow run and the model card)
FEATURES = {
    "ret_1": "log return over 1 day",
    "ret_5": "log return over 5 days",
    "ret_21": "log return over 21 days",
    "vol_21": "standard deviation of daily log returns over 21 days",
    "range_1": "log(high / low): the day's range",
    "gap_1": "log(open / previous close): the overnight gap",
    "close_sma_20": "close / SMA 20 - 1",
    "close_sma_50": "close / SMA 50 - 1",
    "close_sma_200": "close / SMA 200 - 1",
    "ema_12_26": "EMA 12 / EMA 26 - 1 (MACD as a ratio)",
    "macd_hist_rel": "MACD histogram / close",
    "rsi_centered": "RSI 14 / 100 - 0.5",
    "bb_position": "(close - lower band) / band width - 0.5",
    "bb_width": "band width / middle band",
    "atr_rel": "ATR 14 / close",
    "volume_z": "log(volume / its 21-day mean)",
}


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    return numerator / denominator.where(denominator != 0)


def add_features(bars: pd.DataFrame) -> pd.DataFrame:
    """``bars`` (INPUT_COLUMNS, any order) with FEATURES added, sorted by symbol and date.
    A feature is NaN until its inputs exist (warm-up); rows are never dropped here."""
    frame = bars.sort_values(["symbol", "trade_date"], kind="stable").reset_index(drop=True)
    by_symbol = frame.groupby("symbol", sort=False)
    log_close = np.log(frame["close"].where(frame["close"] > 0))
    prev_close = by_symbol["close"].shift(1)
    ret_1 = log_close - log_close.groupby(frame["symbol"]).shift(1)
    out = {
        "ret_1": ret_1,
        "ret_5": log_close - log_close.groupby(frame["symbol"]).shift(5),
        "ret_21": log_close - log_close.groupby(frame["symbol"]).shift(21),
        "vol_21": ret_1.groupby(frame["symbol"]).transform(lambda r: r.rolling(21).std()),
        "range_1": np.log(_ratio(frame["high"], frame["low"])),
        "gap_1": np.log(_ratio(frame["open"], prev_close)),
        "close_sma_20": _ratio(frame["close"], frame["sma_20"]) - 1,
        "close_sma_50": _ratio(frame["close"], frame["sma_50"]) - 1,
        "close_sma_200": _ratio(frame["close"], frame["sma_200"]) - 1,
        "ema_12_26": _ratio(frame["ema_12"], frame["ema_26"]) - 1,
        "macd_hist_rel": _ratio(frame["macd_hist"], frame["close"]),
        "rsi_centered": frame["rsi_14"] / 100 - 0.5,
        "bb_position": _ratio(
            frame["close"] - frame["bb_lower"], frame["bb_upper"] - frame["bb_lower"]
        )
        - 0.5,
        "bb_width": _ratio(frame["bb_upper"] - frame["bb_lower"], frame["bb_middle"]),
        "atr_rel": _ratio(frame["atr_14"], frame["close"]),
        "volume_z": np.log(
            _ratio(
                frame["volume"].astype("float64"),
                frame["volume"].groupby(frame["symbol"]).transform(lambda v: v.rolling(21).mean()),
            )
        ),
    }
    features = pd.DataFrame(out).replace([np.inf, -np.inf], np.nan)
    return pd.concat([frame, features[list(FEATURES)]], axis=1)


def add_targets(frame: pd.DataFrame, horizons: tuple[int, ...]) -> pd.DataFrame:
    """Forward log returns ``target_h{h}`` per horizon (NaN past the symbol's last bar).
    ``frame`` must be sorted by symbol and date (``add_features`` returns it so)."""
    log_close = np.log(frame["close"].where(frame["close"] > 0))
    grouped = log_close.groupby(frame["symbol"])
    targets = {f"target_h{h}": grouped.shift(-h) - log_close for h in horizons}
    return frame.assign(**targets)
