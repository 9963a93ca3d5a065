"""Forecast metrics per horizon, named ``{split}_{model}_{metric}_h{days}`` (for example
``test_lstm_mae_h21``, ``test_naive_mae_h21``) so MLflow compares them side by side.
Splits: ``validation``, ``test`` (every test window pooled) and the walk-forward windows
``test_w1``, ``test_w2``, … in time order, so a result that holds in one period only shows.

* ``mae``: mean absolute error of the log return;
* ``direction``: share of samples whose predicted sign matches the realised one. A model
  that forecasts no move at all (the naive baseline) has no direction: NaN, not 0 — a
  zero beside the LSTM's 0.55 would read as a win it is not. The direction to beat is the
  drift's (in practice "always up": equities rise on ~53 % of days);
* ``ic``: information coefficient — Spearman rank correlation of predicted and realised
  returns across symbols on each date, averaged over dates with at least 3 symbols;
* ``coverage``: share of realised returns inside the predicted interval (models with
  quantiles only); a 10–90 % interval should cover about 0.8.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def information_coefficient(dates: pd.Series, predicted: np.ndarray, actual: np.ndarray) -> float:
    frame = pd.DataFrame({"date": dates.to_numpy(), "p": predicted, "a": actual})
    per_date = [
        group["p"].rank().corr(group["a"].rank())
        for _, group in frame.groupby("date")
        if len(group) >= 3 and group["p"].nunique() > 1
    ]
    values = [v for v in per_date if np.isfinite(v)]
    return float(np.mean(values)) if values else float("nan")


def metrics(
    split: str,
    model: str,
    horizons: tuple[int, ...],
    dates: pd.Series,
    predicted: np.ndarray,
    actual: np.ndarray,
    interval: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict[str, float]:
    """Every metric of one model on one split, per horizon."""
    out = {}
    for i, h in enumerate(horizons):
        p, a = predicted[:, i], actual[:, i]
        key = f"{split}_{model}_{{}}_h{h}"
        out[key.format("mae")] = float(np.mean(np.abs(p - a)))
        out[key.format("direction")] = (
            float(np.mean(np.sign(p) == np.sign(a))) if np.any(p != 0) else float("nan")
        )
        out[key.format("ic")] = information_coefficient(dates, p, a)
        if interval is not None:
            low, high = interval[0][:, i], interval[1][:, i]
            out[key.format("coverage")] = float(np.mean((a >= low) & (a <= high)))
    return out
