"""The forecaster as an MLflow pyfunc: bars in, forecasts out.

Input: daily bars with their indicators (the columns of ``marts.fct_indicators_daily``
in ``features.INPUT_COLUMNS``) for one or more symbols — at least ``sequence_length`` +
21 rows each. The model computes the features, scales them with the scaler fit on its
training window and forecasts from each symbol's last bar. Output: one row per symbol
with the as-of date and, per horizon, the log-return quantiles (``h21_q10`` … ``h21_q90``).
So ``mlflow models serve`` answers a plain HTTP request without any of our code on the
client's side.
"""

from __future__ import annotations

import json

import mlflow.pyfunc
import pandas as pd

from stockmind_ml.config import ForecastConfig
from stockmind_ml.dataset import Scaler, latest_windows


def output_columns(config: ForecastConfig) -> list[str]:
    return [f"h{h}_q{round(q * 100)}" for h in config.horizons for q in config.quantiles]


class ForecasterModel(mlflow.pyfunc.PythonModel):
    def load_context(self, context) -> None:
        from stockmind_ml.model import load_keras

        with open(context.artifacts["config"]) as handle:
            saved = json.load(handle)
        self.config = ForecastConfig(
            **{k: tuple(v) if isinstance(v, list) else v for k, v in saved.items()}
        )
        with open(context.artifacts["scaler"]) as handle:
            self.scaler = Scaler.from_dict(json.load(handle))
        self.model = load_keras(context.artifacts["keras_model"])

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        from stockmind_ml.model import predict_quantiles

        windows = latest_windows(model_input, self.config.sequence_length, self.scaler)
        quantiles = predict_quantiles(self.model, windows.x)
        out = pd.DataFrame(
            quantiles.reshape(len(quantiles), -1), columns=output_columns(self.config)
        )
        out.insert(0, "as_of", windows.keys["trade_date"].dt.strftime("%Y-%m-%d"))
        out.insert(0, "symbol", windows.keys["symbol"])
        return out
