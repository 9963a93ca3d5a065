"""The baselines every forecast is judged against, on the same rows:

* ``naive``: a zero log return (tomorrow's price is today's) — the one to beat;
* ``drift``: the training window's mean return per horizon;
* ``ridge``: a linear model (ridge regression) on the same features at the window's last
  step, fit on the training window.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import Ridge


def naive(x: np.ndarray, horizons: int) -> np.ndarray:
    return np.zeros((len(x), horizons), "float32")


class Drift:
    def __init__(self, y_train: np.ndarray):
        self.mean = y_train.mean(axis=0).astype("float32")

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.tile(self.mean, (len(x), 1))


class RidgeBaseline:
    """Ridge on the last step's features (alpha chosen once, not tuned on the test)."""

    def __init__(self, x_train: np.ndarray, y_train: np.ndarray, alpha: float = 10.0):
        self.model = Ridge(alpha=alpha).fit(x_train[:, -1, :], y_train)

    def predict(self, x: np.ndarray) -> np.ndarray:
        if len(x) == 0:
            return np.empty((0, self.model.coef_.shape[0]), "float32")
        return self.model.predict(x[:, -1, :]).astype("float32")
